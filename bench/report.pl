#!/usr/bin/perl
# bench/report.pl OUTDIR: the ratio tables of one bench/run, as Markdown on
# stdout, and OUTDIR/plot.dat for bench/plot.gp.
#
# Every ratio compares numbers from the same pgbench process (same clients,
# same seconds), except the RLS overhead, which compares the RLS process with
# the BYPASSRLS process that ran beside it at the same time and corrects by
# the raw script, which both processes also ran and on which RLS does nothing:
#   overhead = (copass_rls / copass_bypass) / (raw_rls / raw_bypass) - 1
# and the scaling goal, which compares phases of different sizes of the same
# run (the raw index scan's own scaling is given beside it as the control).
# "latency" is pgbench's per-script average (the whole transaction: framing
# statements and the call); "call" is the call statement alone (-r).
# throughput ratio A vs B = latency(B) / latency(A).
use strict;
use warnings;

my $out = shift or die "usage: report.pl OUTDIR\n";
my (%r, %sizes);

opendir(my $dh, $out) or die "$out: $!\n";
for my $f (sort readdir $dh) {
    next unless $f =~ /^pgbench\.(\d+)\.(\w+)\.(single|pgrst)\.(on|off)\.(rls|bypass)\.txt$/;
    my ($size, $wl, $fr, $sc, $proc) = ($1, $2, $3, $4, $5);
    $sizes{$size} = 1;
    open(my $fh, '<', "$out/$f") or die;
    my $script;
    while (<$fh>) {
        if (/^SQL script \d+: (\S+)\.pgbench/) { $script = $1; next }
        next unless defined $script;
        my $e = ($r{$size}{$wl}{$fr}{$sc}{$proc}{$script} //= {});
        if (/^ - (\d+) transactions/) { $e->{tx} = $1 }
        elsif (/^ - latency average = ([\d.]+) ms/) { $e->{lat} = $1 }
        elsif (/^\s+([\d.]+)\s+\d+\s+(.*)$/) {
            my ($ms, $cmd) = ($1, $2);
            next if $cmd =~ /^(\\|BEGIN|COMMIT|SELECT set_config\()/;
            my $label = $cmd =~ m{/\* bucket (\d+) \*/} ? "bucket$1"
                : $cmd =~ /b2000000/ ? 'list10'
                : $cmd =~ /b1000000/ ? 'list100'
                : $cmd =~ /sandbox_create|INSERT INTO raw\.sandbox/ ? 'create'
                : $cmd =~ /connection_grant|INSERT INTO raw\.connection/ ? 'grant'
                : $cmd =~ /is_external|JOIN raw\.sandbox/ ? 'shared'
                : 'call';
            $label = 'call' if $wl =~ /^(list\d+|create)$/;
            $e->{call}{$label} = $ms;
        }
    }
    close $fh;
}
closedir $dh;
my @sizes = sort { $a <=> $b } keys %sizes;

sub lat { my ($s, $wl, $fr, $sc, $proc, $script, $call) = @_;
    my $e = $r{$s}{$wl}{$fr}{$sc}{$proc}{$script} or return undef;
    return defined $call ? $e->{call}{$call} : $e->{lat};
}
sub ratio { my ($a, $b) = @_; return (defined $a && defined $b && $b > 0) ? $a / $b : undef }
sub f2 { my $v = shift; defined $v ? sprintf('%.2f', $v) : 'n/a' }
sub f3 { my $v = shift; defined $v ? sprintf('%.3f', $v) : 'n/a' }
sub pct { my $v = shift; defined $v ? sprintf('%+.1f%%', 100 * $v) : 'n/a' }
sub human { my $n = shift; $n >= 1e6 ? ($n / 1e6) . 'e6' : $n >= 1e3 ? ($n / 1e3) . 'e3' : $n }
sub sz { my $n = shift; my %h = (100000 => '1e5', 1000000 => '1e6', 10000000 => '1e7'); $h{$n} // $n }
sub rls_overhead { my ($s, $wl, $fr, $sc, $script, $call) = @_;
    my $c = ratio(lat($s, $wl, $fr, $sc, 'rls', $script, $call), lat($s, $wl, $fr, $sc, 'bypass', $script, $call));
    my $rawscript = $script =~ /^(?:copass|plpgsql)-(create|list|mixed|flat)/ ? "raw-$1" : return (undef, undef, undef);
    my $k = ratio(lat($s, $wl, $fr, $sc, 'rls', $rawscript, $call), lat($s, $wl, $fr, $sc, 'bypass', $rawscript, $call));
    return (defined $c && defined $k) ? ($c / $k - 1, $c - 1, $k) : (undef, undef, undef);
}

# ---- callgrind
my %ir;    # size -> kind -> Ir per op
for my $s (@sizes) {
    my $d = "$out/callgrind.$s";
    next unless -f "$d/ir.tsv";
    open(my $fh, '<', "$d/ops") or next; my $n = <$fh>; chomp $n; close $fh;
    my %tot;
    open($fh, '<', "$d/ir.tsv") or next;
    while (<$fh>) { chomp; my ($k, $v) = split /\t/; $tot{$k} = $v }
    close $fh;
    my $marker = $tot{empty} // 0;
    $ir{$s}{$_} = ($tot{$_} - $marker) / $n for grep { $_ ne 'empty' } keys %tot;
}
sub ir_stmt { my ($s, $k) = @_; my $v = $ir{$s}{$k}; my $set = $ir{$s}{set}; (defined $v && defined $set) ? $v - $set : undef }
sub ir_net { my ($s, $k) = @_; my $v = $ir{$s}{$k}; my $noop = $ir{$s}{noop}; (defined $v && defined $noop) ? $v - $noop : undef }
my ($cg_size) = grep { defined $ir{$_}{'create.copass'} } @sizes;

# ---- goals
my @goal_rows;
sub verdict { my ($ok) = @_; !defined $ok ? 'not measured' : $ok ? '**met**' : '**missed**' }
sub minmax { my @v = grep { defined } @_; return (undef, undef) unless @v; my @s = sort { $a <=> $b } @v; ($s[0], $s[-1]) }
sub median { my @s = sort { $a <=> $b } grep { defined } @_; return undef unless @s; @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2 }

# 1. create instructions vs raw INSERT
if ($cg_size) {
    my $st = ratio(ir_stmt($cg_size, 'create.copass'), ir_stmt($cg_size, 'create.raw'));
    my $net = ratio(ir_net($cg_size, 'create.copass'), ir_net($cg_size, 'create.raw'));
    my $same = ratio(ir_stmt($cg_size, 'create.copass'), ir_stmt($cg_size, 'create.raw_counted'));
    push @goal_rows, ["create instructions <= 1.15x raw INSERT (callgrind, " . sz($cg_size) . ")",
        sprintf('%sx per statement (%s vs %s Ir); %sx net of an empty statement%s', f2($st),
            int(ir_stmt($cg_size, 'create.copass')), int(ir_stmt($cg_size, 'create.raw')), f2($net),
            defined $same ? sprintf('; %sx a raw INSERT plus its usage-counter UPDATE (the same work)', f2($same)) : ''),
        verdict($st <= 1.15)];
} else {
    push @goal_rows, ['create instructions <= 1.15x raw INSERT', 'callgrind not run', verdict(undef)];
}

# 2. create throughput vs PL/pgSQL (judged on the CPU-bound phases,
# synchronous_commit off; with it on, both wait for the same WAL flush)
{
    my (@v, @on, @callv);
    for my $s (@sizes) { for my $fr (qw(single pgrst)) {
        push @v, ratio(lat($s, 'create', $fr, 'off', 'rls', 'plpgsql-create'), lat($s, 'create', $fr, 'off', 'rls', 'copass-create'));
        push @on, ratio(lat($s, 'create', $fr, 'on', 'rls', 'plpgsql-create'), lat($s, 'create', $fr, 'on', 'rls', 'copass-create'));
        push @callv, ratio(lat($s, 'create', $fr, 'off', 'rls', 'plpgsql-create', 'call'), lat($s, 'create', $fr, 'off', 'rls', 'copass-create', 'call'));
    } }
    my ($clo, $chi) = minmax(@callv);
    my ($lo, $hi) = minmax(@v);
    my ($olo, $ohi) = minmax(@on);
    my @cg = $cg_size ? (ratio(ir_stmt($cg_size, 'create.plpgsql'), ir_stmt($cg_size, 'create.copass'))) : ();
    push @goal_rows, ['create throughput >= 1.3x PL/pgSQL (synchronous_commit off)',
        sprintf('%s..%sx per transaction over %d phases (sizes x framings), %s..%sx per call statement; with synchronous_commit on %s..%sx%s', f2($lo), f2($hi), scalar(grep { defined } @v),
            f2($clo), f2($chi), f2($olo), f2($ohi), @cg ? sprintf('; instructions: PL/pgSQL %sx copass', f2($cg[0])) : ''),
        verdict(defined $lo ? $lo >= 1.3 : undef)];
}

# 3. create flat in sandboxes per account/owner
{
    my @v; my @t;
    for my $s (@sizes) {
        my $r = ratio(lat($s, 'flat', 'single', 'off', 'rls', 'copass-flat', 'bucket1000'), lat($s, 'flat', 'single', 'off', 'rls', 'copass-flat', 'bucket1'));
        push @v, $r; push @t, sz($s) . ': ' . f2($r) . 'x' if defined $r;
    }
    my ($lo, $hi) = minmax(@v);
    my $irr = $cg_size ? ratio($ir{$cg_size}{'create.flat1000'}, $ir{$cg_size}{'create.flat1'}) : undef;
    push @goal_rows, ['create cost flat from 1 to 1,000 sandboxes per account/owner (1000 vs 1; flat = within 10% in latency, 5% in instructions)',
        'latency ' . join(', ', @t) . (defined $irr ? '; instructions ' . f3($irr) . 'x' : ''),
        verdict(defined $hi ? ($hi <= 1.10 && (!defined $irr || $irr <= 1.05)) : undef)];
}

# 4. list vs raw index scan
{
    my @v; my @t;
    for my $s (@sizes) { for my $wl (qw(list10 list100)) { for my $fr (qw(single pgrst)) {
        my $r = ratio(lat($s, $wl, $fr, 'off', 'rls', 'raw-list'), lat($s, $wl, $fr, 'off', 'rls', 'copass-list'));
        push @v, $r;
    } } }
    my ($lo, $hi) = minmax(@v);
    my @cg;
    my @same;
    for my $s (@sizes) { for my $l (qw(list10 list100)) {
        my $r = ratio(ir_stmt($s, "$l.raw"), ir_stmt($s, "$l.copass"));
        push @cg, sz($s) . " $l " . f2($r) . 'x' if defined $r;
        my $rs = ratio(ir_stmt($s, "$l.raw_shape"), ir_stmt($s, "$l.copass"));
        push @same, sz($s) . " $l " . f2($rs) . 'x' if defined $rs;
    } }
    push @cg, 'vs a raw SELECT of the same row (limits, access, is_external): ' . join(', ', @same) if @same;
    push @goal_rows, ['list-by-owner throughput >= 0.95x raw index scan',
        sprintf('%s..%sx (median %s) over %d phases%s', f2($lo), f2($hi), f2(median(@v)), scalar(grep { defined } @v),
            @cg ? '; instructions (raw/copass): ' . join(', ', @cg) : ''),
        verdict(defined $lo ? $lo >= 0.95 : undef)];
}

# 5. RLS overhead
{
    my (@c, @l);
    for my $s (@sizes) { for my $fr (qw(single pgrst)) {
        push @c, (rls_overhead($s, 'create', $fr, 'off', 'copass-create'))[0];
        push @l, (rls_overhead($s, $_, $fr, 'off', 'copass-list'))[0] for qw(list10 list100);
    } }
    my ($clo, $chi) = minmax(@c); my ($llo, $lhi) = minmax(@l);
    my @cg;
    if ($cg_size) {
        push @cg, 'create ' . pct(ratio(ir_stmt($cg_size, 'create.copass'), ir_stmt($cg_size, 'create.copass_bypass')) - 1);
        for my $l (qw(list10 list100)) {
            my $r = ratio(ir_stmt($cg_size, "$l.copass"), ir_stmt($cg_size, "$l.copass_bypass"));
            push @cg, "$l " . pct($r - 1) if defined $r;
        }
    }
    push @goal_rows, ['row-level security overhead <= 5% on create and list',
        sprintf('latency (two concurrent processes, noisy): create %s..%s (median %s), list %s..%s (median %s)%s', pct($clo), pct($chi), pct(median(@c)), pct($llo), pct($lhi), pct(median(@l)),
            @cg ? '; instructions: ' . join(', ', @cg) : ''),
        verdict(defined $chi && defined $lhi ? ($chi <= 0.05 && $lhi <= 0.05) : undef)];
}

# 6. list latency scaling
{
    my ($lo, $hi) = ($sizes[0], $sizes[-1]);
    my @t; my @v;
    for my $wl (qw(list10 list100)) {
        my $c = ratio(lat($hi, $wl, 'single', 'off', 'rls', 'copass-list'), lat($lo, $wl, 'single', 'off', 'rls', 'copass-list'));
        my $k = ratio(lat($hi, $wl, 'single', 'off', 'rls', 'raw-list'), lat($lo, $wl, 'single', 'off', 'rls', 'raw-list'));
        push @v, $c;
        push @t, "$wl " . f2($c) . 'x (raw ' . f2($k) . 'x)';
    }
    my ($vlo, $vhi) = minmax(@v);
    my $big = $hi >= 10000000;
    push @goal_rows, ['list latency at 1e7 <= 1.2x at 1e5',
        ($big ? '' : 'not run at 1e7 (BENCH_BIG=1); ') . sz($hi) . ' vs ' . sz($lo) . ': ' . join(', ', @t),
        $big ? verdict($vhi <= 1.2) : 'not measured'];
}

# ---- output
print "## Goals\n\n| goal | measured (same run) | verdict |\n|---|---|---|\n";
print "| $_->[0] | $_->[1] | $_->[2] |\n" for @goal_rows;

print "\n## Create\n\nLatency in ms (pgbench per-script average, RLS process); ratios from the same process.\n\n";
print "| size | framing | sync commit | copass | raw | PL/pgSQL | copass/raw | PL/pgSQL/copass (throughput gain) | copass call/raw call | PL/pgSQL call/copass call | RLS overhead (copass) | RLS overhead (PL/pgSQL) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
for my $s (@sizes) { for my $fr (qw(single pgrst)) { for my $sc (qw(off on)) {
    my ($c, $w, $p) = map { lat($s, 'create', $fr, $sc, 'rls', $_) } qw(copass-create raw-create plpgsql-create);
    next unless defined $c;
    my $cc = ratio(lat($s, 'create', $fr, $sc, 'rls', 'copass-create', 'call'), lat($s, 'create', $fr, $sc, 'rls', 'raw-create', 'call'));
    my $pc = ratio(lat($s, 'create', $fr, $sc, 'rls', 'plpgsql-create', 'call'), lat($s, 'create', $fr, $sc, 'rls', 'copass-create', 'call'));
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", sz($s), $fr, $sc, f3($c), f3($w), f3($p),
        f2(ratio($c, $w)), f2(ratio($p, $c)), f2($cc), f2($pc),
        pct((rls_overhead($s, 'create', $fr, $sc, 'copass-create'))[0]), pct((rls_overhead($s, 'create', $fr, $sc, 'plpgsql-create'))[0]);
} } }

print "\n## List by owner\n\nLatency in ms; throughput vs raw = raw latency / latency (goal >= 0.95 for copass).  owned = include_connections false; view = GET /sandboxes?owner_id=eq.X&order=sandbox_id&limit=100.\n\n";
print "| size | sandboxes per owner | framing | raw | copass | copass vs raw | copass call vs raw call | owned vs raw | view vs raw | PL/pgSQL vs raw | copass vs PL/pgSQL | RLS overhead (copass) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
for my $s (@sizes) { for my $wl (qw(list10 list100)) { for my $fr (qw(single pgrst)) {
    my %l = map { $_ => lat($s, $wl, $fr, 'off', 'rls', $_) } qw(raw-list copass-list copass-list-owned copass-list-view plpgsql-list);
    next unless defined $l{'copass-list'};
    my $cc = ratio(lat($s, $wl, $fr, 'off', 'rls', 'raw-list', 'call'), lat($s, $wl, $fr, 'off', 'rls', 'copass-list', 'call'));
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", sz($s), ($wl =~ /(\d+)/)[0], $fr,
        f3($l{'raw-list'}), f3($l{'copass-list'}), f2(ratio($l{'raw-list'}, $l{'copass-list'})), f2($cc),
        f2(ratio($l{'raw-list'}, $l{'copass-list-owned'})), f2(ratio($l{'raw-list'}, $l{'copass-list-view'})),
        f2(ratio($l{'raw-list'}, $l{'plpgsql-list'})), f2(ratio($l{'plpgsql-list'}, $l{'copass-list'})),
        pct((rls_overhead($s, $wl, $fr, 'off', 'copass-list'))[0]);
} } }

print "\n## Mixed (70% list, 20% create, 5% grant, 5% shared-with-me)\n\nLatency in ms per transaction, and per operation (call statement alone).\n\n";
print "| size | framing | sync commit | copass | raw | PL/pgSQL | copass/raw | PL/pgSQL/copass | copass/raw per op: list10, list100, create, grant, shared | RLS overhead (copass) |\n|---|---|---|---|---|---|---|---|---|---|\n";
for my $s (@sizes) { for my $fr (qw(single pgrst)) { for my $sc (qw(off on)) {
    my ($c, $w, $p) = map { lat($s, 'mixed', $fr, $sc, 'rls', $_) } qw(copass-mixed raw-mixed plpgsql-mixed);
    next unless defined $c;
    my @ops = map { f2(ratio(lat($s, 'mixed', $fr, $sc, 'rls', 'copass-mixed', $_), lat($s, 'mixed', $fr, $sc, 'rls', 'raw-mixed', $_))) } qw(list10 list100 create grant shared);
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", sz($s), $fr, $sc, f3($c), f3($w), f3($p),
        f2(ratio($c, $w)), f2(ratio($p, $c)), join(', ', @ops), pct((rls_overhead($s, 'mixed', $fr, $sc, 'copass-mixed'))[0]);
} } }

print "\n## Create flatness\n\nCall latency (ms) of a create into an account whose one owner already has N sandboxes (single framing, synchronous_commit off); the average count before and after the phase is in flat-before/after.<size>.txt.\n\n";
print "| size | impl | N=1 | N=10 | N=100 | N=1000 | 1000 vs 1 |\n|---|---|---|---|---|---|---|\n";
for my $s (@sizes) { for my $impl (qw(copass raw plpgsql)) {
    my @b = map { lat($s, 'flat', 'single', 'off', 'rls', "$impl-flat", "bucket$_") } (1, 10, 100, 1000);
    next unless defined $b[0];
    printf "| %s | %s | %s | %s | %s | %s | %s |\n", sz($s), $impl, (map { f3($_) } @b), f2(ratio($b[3], $b[0]));
} }

if (%ir) {
    print "\n## Instructions per operation (callgrind)\n\n";
    print "Ir per op: `total` = the SET of the account + the statement; `statement` = total - SET; `net` = total - an empty statement (SET + EXECUTE of SELECT WHERE false).  Every statement is wrapped as PostgREST does, `SELECT json_agg(t) FROM (<call>) t`.\n\n";
    print "| size | kind | total | statement | net | statement vs raw |\n|---|---|---|---|---|---|\n";
    for my $s (@sizes) {
        next unless $ir{$s};
        for my $k (sort { ($a =~ /^(set|noop)$/ ? 0 : 1) <=> ($b =~ /^(set|noop)$/ ? 0 : 1) || $a cmp $b } keys %{ $ir{$s} }) {
            my ($grp) = $k =~ /^(\w+)\./;
            my $raw = defined $grp ? ir_stmt($s, "$grp.raw") : undef;
            $raw = ir_stmt($s, 'create.raw') if defined $grp && $grp eq 'create';
            printf "| %s | %s | %d | %s | %s | %s |\n", sz($s), $k, $ir{$s}{$k},
                defined ir_stmt($s, $k) ? int(ir_stmt($s, $k)) : 'n/a', defined ir_net($s, $k) ? int(ir_net($s, $k)) : 'n/a',
                (defined $grp && $k ne "$grp.raw") ? f2(ratio(ir_stmt($s, $k), $raw)) . 'x' : '';
        }
    }
}

# ---- plot data: single framing, synchronous_commit off, RLS process
open(my $pd, '>', "$out/plot.dat") or die;
print $pd "# size copass_list100 raw_list100 plpgsql_list100 copass_list10 raw_list10 plpgsql_list10 copass_create raw_create plpgsql_create (ms)\n";
for my $s (@sizes) {
    my @v = ((map { lat($s, 'list100', 'single', 'off', 'rls', $_) } qw(copass-list raw-list plpgsql-list)),
             (map { lat($s, 'list10', 'single', 'off', 'rls', $_) } qw(copass-list raw-list plpgsql-list)),
             (map { lat($s, 'create', 'single', 'off', 'rls', $_) } qw(copass-create raw-create plpgsql-create)));
    print $pd join(' ', $s, map { $_ // 'NaN' } @v), "\n";
}
close $pd;
