#!/usr/bin/perl
# scripts/fuzz.pl: the generator and driver behind scripts/fuzz (read that
# file first: it starts the throwaway cluster, installs copass and calls this).
#
# Several long-lived psql sessions (one backend each, connected as the
# cluster's superuser) run PostgREST-shaped transactions:
#
#   BEGIN ISOLATION LEVEL READ COMMITTED [READ ONLY];   -- READ ONLY for GET
#   [SELECT set_config('copass.max_metadata_bytes', …, true)]  -- PGC_SUSET
#   SET LOCAL ROLE fuzz_api;                            -- fuzz_anon now and then
#   SELECT set_config('request.jwt.claims', …, true), set_config('copass.account_id', …, true),
#          set_config('copass.account_claim', …, true), …;
#   SELECT fuzz.ref_account();                          -- the reference answer
#   WITH pgrst_source AS (SELECT pgrst_call.* FROM copass.<fn>(arg => '…', …) pgrst_call)
#   SELECT … FROM pgrst_source;
#   COMMIT;                                             -- ROLLBACK after an error
#
# with hostile values for every argument and setting copass's C code reads.
# A call is either all-hostile (every argument and setting from the hostile
# generators) or has one hostile argument (valid settings and other
# arguments), so that calls also get past the first check into the SPI paths.
# fuzz.ref_account() answers UNKNOWN where jsonb cannot judge what copass's
# own lexer accepts (nesting deeper than jsonb's stack, \u0000 or lone
# surrogates elsewhere in the claims, escaped non-ASCII claim names); those
# calls skip the account oracle.  `scripts/fuzz.pl --generate N [session]`
# only generates (no database), to look at inputs and their sizes.
#
# Each session is driven through a pipe; psql answers with marker lines
# (prefixed by a per-run nonce that no generated value contains), errors are
# read with VERBOSITY verbose so every one carries its SQLSTATE and the C
# function and file that raised it.
#
# A finding is any of:
#   crash       the backend died (psql lost its connection, or the server log
#               says a server process was terminated by a signal)
#   hang        no answer within FUZZ_CALL_TIMEOUT seconds
#   sqlstate    an SQLSTATE outside SPEC.md's set (42501 PT404 22023 22001 23505
#               PT402), the type-input set (raised by PostgreSQL's input
#               functions for a malformed literal, never inside copass), or
#               54000; 57014 (statement_timeout, 60 s) counts here too
#   oracle      copass.current_account_id() (or an API function's refusal)
#               disagrees with fuzz.ref_account(), a reference written in SQL
#               on jsonb and uuid_in; or a returned row belongs to another
#               account without is_external; or a stored name is not NFC / not
#               1..255 characters; or a name/metadata size verdict contradicts
#               the rule in SPEC.md
# Every finding's full transaction is saved to FUZZ_OUT/finding-N-<kind>.sql.
use strict;
use warnings;
use IPC::Open3;
use IO::Select;
use IO::Handle;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use Unicode::Normalize qw(NFC);

my %opt = (
    seconds      => $ENV{FUZZ_SECONDS}      // 300,
    seed         => $ENV{FUZZ_SEED}         // die("FUZZ_SEED is not set\n"),
    sessions     => $ENV{FUZZ_SESSIONS}     // 4,
    out          => $ENV{FUZZ_OUT}          // die("FUZZ_OUT is not set\n"),
    max_bytes    => $ENV{FUZZ_MAX_BYTES}    // 8 * 1024 * 1024,
    call_timeout => $ENV{FUZZ_CALL_TIMEOUT} // 150,
    reconnect    => $ENV{FUZZ_RECONNECT_EVERY} // 3000,
    max_crashes  => $ENV{FUZZ_MAX_CRASHES}  // 5,
    db           => $ENV{FUZZ_DB}           // 'fuzz',
    log          => $ENV{FUZZ_SERVER_LOG}   // '',
);
$opt{seed} =~ /^\d+$/ or die "FUZZ_SEED must be a non-negative integer\n";
mkdir $opt{out} unless -d $opt{out};

# SQLSTATEs: SPEC.md's, and what PostgreSQL's type input raises for a
# malformed literal before any copass code runs.
my %SPEC_STATE  = map { $_ => 1 } qw(42501 PT404 22023 22001 23505 PT402);
my %INPUT_STATE = map { $_ => 1 } qw(22P02 22P05 22003 22007 22008 22009 22021 22025 2202E 54001);
my %LIMIT_STATE = ('54000' => 1);
my $COPASS_SRC  = qr/\b(?:account|connection|copass|input|plan|sandbox|uuid7)\.c:\d+/;

srand($opt{seed});
my $nonce = sprintf 'Q%08x%08x', int(rand(2**32)), int(rand(2**32));
my $MARK = "\@\@$nonce";

# ---------------------------------------------------------------- pools

sub rnd    { int(rand($_[0])) }
sub pick   { $_[ rnd(scalar @_) ] }
sub chance { rand() < $_[0] }

sub rand_uuid {
    my $h = join '', map { sprintf '%04x', rnd(65536) } 1 .. 8;
    substr($h, 12, 1) = '4';
    substr($h, 16, 1) = pick(qw(8 9 a b));
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20);
}

my @ACCOUNTS = map { rand_uuid() } 1 .. 12;
my @OWNERS   = map { rand_uuid() } 1 .. 8;
my %SB_BY_ACCT;      # account -> [sandbox ids]
my @SANDBOXES;       # [id, account]
my @DELETED;         # deleted sandbox ids
my @GRANTS;          # [sandbox id, grantee, owning account]
my @NAMES = ('alpha', 'Straße', "e\x{301}t\x{e9}", 'x' x 255, "\x{1f600}", 'data lake', 'ä' x 255);

sub remember_sandbox {
    my ($id, $acct) = @_;
    push @SANDBOXES, [$id, $acct];
    shift @SANDBOXES while @SANDBOXES > 4000;
    my $l = $SB_BY_ACCT{$acct} //= [];
    push @$l, $id;
    shift @$l while @$l > 400;
}

sub forget_sandbox {
    my ($id) = @_;
    @SANDBOXES = grep { $_->[0] ne $id } @SANDBOXES;
    for my $l (values %SB_BY_ACCT) { @$l = grep { $_ ne $id } @$l }
    @GRANTS = grep { $_->[0] ne $id } @GRANTS;
    push @DELETED, $id;
    shift @DELETED while @DELETED > 300;
}

# ---------------------------------------------------------------- characters

my @ASCII      = map { chr } 0x20 .. 0x7e;
my @CONTROL    = (map({ chr } 1 .. 0x1f), chr(0x7f), map({ chr } 0x80 .. 0x9f));
my @SPACE      = map { chr } (0x20, 0xa0, 0x1680, 0x2000 .. 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000);
my @INVISIBLE  = map { chr } (0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e, 0x115f, 0x3164, 0x2800,
                              0xad, 0x34f, 0x61c, 0x200e, 0x200f, 0x202a .. 0x202e, 0x2066 .. 0x2069, 0xfff9 .. 0xfffb);
my @COMBINING  = map { chr } (0x300 .. 0x36f, 0x1ab0 .. 0x1abe, 0x1dc0 .. 0x1dff, 0x20d0 .. 0x20f0,
                              0xfe20 .. 0xfe2f, 0x591 .. 0x5bd, 0xe31, 0xe34 .. 0xe3a, 0x3099, 0x309a, 0x1d165 .. 0x1d169);
# code points whose NFC form is longer, or different (singletons, exclusions)
my @NFC_ODD    = map { chr } (0x340, 0x341, 0x343, 0x344, 0x374, 0x37e, 0x387, 0xf73, 0xf75, 0xf81, 0x958 .. 0x95f,
                              0xfb1d, 0xfb1f, 0xfb2a .. 0xfb36, 0x2adc, 0x1d15e .. 0x1d164, 0x2126, 0x212a, 0x212b,
                              0x2000, 0x2001, 0x2329, 0x232a, 0xf900 .. 0xf90f, 0x2f800 .. 0x2f80f);
my @COMPOSING  = ("e\x{301}", "A\x{30a}", "\x{1100}\x{1161}", "\x{1100}\x{1161}\x{11a8}", "\x{3b1}\x{313}\x{342}\x{345}",
                  "s\x{323}\x{307}", "s\x{307}\x{323}", "o\x{328}\x{304}", "\x{5d0}\x{5b7}", "n\x{303}", "\x{41}\x{30a}\x{301}",
                  "\x{1112}\x{1175}\x{11c2}", "u\x{308}\x{301}", "\x{3c9}\x{314}\x{342}\x{345}");
my @ASTRAL     = map { chr } (0x1f600 .. 0x1f64f, 0x10000, 0x1d400 .. 0x1d43f, 0xe0001, 0xe0020 .. 0xe007f, 0x20000 .. 0x2001f);
my @NONCHAR    = map { chr } (0xfffe, 0xffff, 0xfdd0 .. 0xfdef, 0x1fffe, 0x1ffff, 0xefffe, 0x10fffe, 0x10ffff, 0xe000, 0xf8ff, 0xf0000);
my @MISC       = map { chr } (0xe9, 0xdf, 0x130, 0x131, 0x3a3, 0x3c2, 0x416, 0x5d0, 0x627, 0x915, 0xe01, 0x4e2d, 0x65e5,
                              0xac00, 0xd55c, 0xfffd, 0x2028, 0x202e, 0x1e9e, 0xfb01, 0x2160, 0xff21, 0xff10, 0x24b6);
my @SQLISH     = ("'", "''", '"', '\\', ';', '--', '/*', '*/', '$$', '$1', '%s', '%n', '%', '_', ':x', ":'x'", '\\g', '\\!',
                  ' OR 1=1', '); DROP TABLE copass_data.sandbox; --', "\\u0000", "\\x00", '${x}', '<script>', '\N');

sub any_char {
    my $c;
    do { $c = rnd(0x110000) } while ($c == 0 || ($c >= 0xd800 && $c <= 0xdfff));
    return chr $c;
}

my @CHAR_CLASSES = (
    [30, \@ASCII], [6, \@CONTROL], [8, \@SPACE], [5, \@INVISIBLE], [10, \@COMBINING], [6, \@NFC_ODD],
    [8, \@COMPOSING], [6, \@ASTRAL], [3, \@NONCHAR], [10, \@MISC], [3, \@SQLISH], [5, undef],
);

sub class_char {
    my ($classes) = @_;
    my $tot = 0;
    $tot += $_->[0] for @$classes;
    my $x = rand($tot);
    for my $c (@$classes) {
        $x -= $c->[0];
        next if $x >= 0;
        return $c->[1] ? pick(@{ $c->[1] }) : any_char();
    }
    return 'x';
}

# A string of about $len characters from one to three character classes
sub rand_text {
    my ($len) = @_;
    my @classes = map { pick(@CHAR_CLASSES) } 1 .. 1 + rnd(3);
    my $s = '';
    $s .= class_char(\@classes) while length($s) < $len;
    return substr($s, 0, $len);
}

# A size: mostly small, now and then huge (up to FUZZ_MAX_BYTES)
sub rand_size {
    my $r = rand;
    return rnd(16) + 1 if $r < 0.55;
    return 200 + rnd(4000) if $r < 0.85;
    return 4000 + rnd(60000) if $r < 0.97;
    return int(65536 * (($opt{max_bytes} / 65536)**rand));
}

sub big_repeat {    # a long string built fast: a random unit repeated
    my ($n) = @_;
    my $unit = rand_text(1 + rnd(8));
    my $s = $unit x (1 + int($n / length($unit)));
    return substr($s, 0, $n);
}

# ---------------------------------------------------------------- names

sub gen_name {
    my $r = rand;
    return pick(@NAMES) if $r < 0.22;
    if ($r < 0.40) {
        return pick('', ' ', "\t", "\n", ' ' x 300, join('', map { pick(@SPACE) } 1 .. 1 + rnd(20)),
            "a\tb", "a\x{85}b", "\x{7f}", "ok\x{1b}[31m", "\x{200b}", "\x{feff}", "\x{3000}\x{3000}",
            'x' x 254, 'x' x 255, 'x' x 256, "e\x{301}" x 255, "e\x{301}" x 256, "\x{f73}" x 127, "\x{f73}" x 128,
            "\x{1100}\x{1161}\x{11a8}" x 255, "\x{1100}\x{1161}\x{11a8}" x 256, "\x{1f600}" x 255, "\x{1f600}" x 256,
            "\x{3b1}\x{313}\x{342}\x{345}" x 255, "\x{1d15e}" x 128, "\x{344}" x 128, 'é' x 1020, 'é' x 4081,
            "\x{10ffff}" x 255, "\x{fffe}", "a" . ("\x{301}" x 300), "\x{301}", "'; SELECT 1; --", '\\', "\x{2028}",
            "\x{a0}x\x{a0}", 'ǅ', "\x{fb2c}" x 85, "\x{fb2c}" x 86, "\x{2adc}" x 128);
    }
    if ($r < 0.50) {    # around the byte pre-check (255 * 16 bytes) and huge
        my $n = pick(1020, 1021, 1360, 1361, 2040, 4079, 4080, 4081, 100_000, rand_size());
        return big_repeat($n);
    }
    if ($r < 0.70) {    # around 255 characters
        return rand_text(250 + rnd(12));
    }
    my $name = rand_text(1 + rnd(40));
    push @NAMES, $name if chance(0.1) && @NAMES < 200;
    return $name;
}

# ---------------------------------------------------------------- JSON text

my %JESC = ("\"" => '\\"', "\\" => '\\\\', "\b" => '\\b', "\f" => '\\f', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t');

# JSON string literal; $style 0 plain, 1 random \u escapes, 2 all \u escapes
sub jstr {
    my ($s, $style) = @_;
    $style //= chance(0.15) ? 1 : 0;
    my $o = '"';
    for my $ch (split //, $s) {
        my $c = ord $ch;
        if ($style == 2 || ($style == 1 && chance(0.3)) || $c < 0x20) {
            if ($c > 0xffff) {
                my $v = $c - 0x10000;
                $o .= sprintf('\\u%04x\\u%04x', 0xd800 + ($v >> 10), 0xdc00 + ($v & 0x3ff));
            } elsif ($c < 0x20 && $JESC{$ch} && $style == 0) {
                $o .= $JESC{$ch};
            } else {
                $o .= sprintf(chance(0.5) ? '\\u%04x' : '\\u%04X', $c);
            }
        } elsif ($JESC{$ch}) {
            $o .= $JESC{$ch};
        } elsif ($ch eq '/' && chance(0.2)) {
            $o .= '\\/';
        } else {
            $o .= $ch;
        }
    }
    return $o . '"';
}

sub ws { chance(0.8) ? pick('', '', ' ') : join('', map { pick(' ', "\t", "\n", "\r") } 1 .. 1 + rnd(4)) }

sub jobj {
    my @m = @_;    # [keyjson, valuejson]
    return '{' . ws() . join(',' . ws(), map { $_->[0] . ws() . ':' . ws() . $_->[1] } @m) . ws() . '}';
}

sub jnum {
    return pick(0, -0, 1, -1, 42, '1.5', '-0.0', '1e3', '1E-7', '2147483648', '-9223372036854775809',
        '123456789012345678901234567890', '1e308', '1e309', '1e-400', '0.' . ('0' x 100) . '1', 3.14159);
}

sub jvalue {
    my ($depth) = @_;
    my $r = rand;
    return jstr(rand_text(rnd(20))) if $r < 0.3;
    return jnum() if $r < 0.45;
    return pick('true', 'false', 'null') if $r < 0.55;
    return jstr(rand_uuid()) if $r < 0.6;
    if ($depth < 4 && $r < 0.8) {
        return jobj(map { [jstr(rand_text(1 + rnd(10))), jvalue($depth + 1)] } 1 .. rnd(5));
    }
    return '[' . join(',', map { jvalue($depth + 1) } 1 .. rnd(5)) . ']' if $depth < 4;
    return 'null';
}

# Nested containers $n deep, $inner at the bottom
sub deep {
    my ($n, $inner, $kind) = @_;
    $kind //= pick('array', 'object', 'mixed');
    my ($open, $close) = ('', '');
    if ($kind eq 'array') {
        ($open, $close) = ('[' x $n, ']' x $n);
    } elsif ($kind eq 'object') {
        ($open, $close) = ('{"a":' x $n, '}' x $n);
    } else {
        ($open, $close) = ('[{"k":' x ($n >> 1), '}]' x ($n >> 1));
    }
    return $open . $inner . $close;
}

sub deep_depth { pick(10, 100, 1000, 3000, 10_000, 50_000, 100_000, 1 + rnd(100_000)) }

sub truncate_json {
    my ($s) = @_;
    return substr($s, 0, rnd(length($s) + 1));
}

# Byte-level damage to a JSON text (on characters, so the UTF-8 stays valid)
sub mutate {
    my ($s) = @_;
    my @set = ('{', '}', '[', ']', '"', '\\', ':', ',', 'u', '0', 'd', '8', 'e', '-', ' ', "\x{e9}", "\x{1f600}", '\\u0000', '\\ud800');
    for (1 .. 1 + rnd(6)) {
        my $p = rnd(length($s) + 1);
        my $r = rand;
        if ($r < 0.35 && length $s) {
            substr($s, $p, 1 + rnd(3), '');
        } elsif ($r < 0.75) {
            substr($s, $p, 0, pick(@set));
        } elsif ($r < 0.9 && length $s) {
            my $l = 1 + rnd(10);
            substr($s, $p, 0, substr($s, rnd(length $s), $l));
        } else {
            substr($s, $p, 0, pick(@CONTROL, @SPACE));
        }
    }
    return $s;
}

# ---------------------------------------------------------------- UUID spellings

sub uuid_spell {    # a spelling uuid_in accepts, or (now and then) one it refuses
    my ($u) = @_;
    my $h = $u;
    $h =~ s/-//g;
    my $r = rand;
    return $u if $r < 0.55;
    return uc $u if $r < 0.65;
    return "{$u}" if $r < 0.72;
    return $h if $r < 0.78;
    return join('-', $h =~ /(....)/g) if $r < 0.84;
    return join('', map { chance(0.5) ? uc : lc } split //, $u) if $r < 0.88;
    return pick("{$u", "$u}", " $u", "$u ", "urn:uuid:$u", substr($u, 0, 35), $u . '0', "$u\n",
        join('', map { $_ =~ /[0-9]/ ? chr(0xff10 + $_) : $_ } split //, $u), "$u-", "-$u", "{{$u}}",
        substr($h, 0, 8) . '--' . substr($h, 8), $u . ('0' x 10000), "\x{feff}$u");
}

sub garbage_uuid {
    return pick('', 'x', 'null', 'NULL', '00000000-0000-0000-0000-00000000000', '0' x 33, 'g' x 32,
        '{00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000}', ' ' x 36,
        rand_text(1 + rnd(40)), uuid_spell(rand_uuid()), 'ffffffff-ffff-ffff-ffff-fffffffffffff', big_repeat(rand_size()));
}

# ---------------------------------------------------------------- settings

# Returns [claim name or undef, claims text or undef, account_id text or undef]
sub gen_settings {
    my ($acct) = @_;
    my $claim = undef;
    if (chance(0.12)) {
        $claim = pick('account_id', 'sub', 'role', '', 'Account_Id', 'account\\u005fid', "\x{3b1}ccount", 'acc"ount',
            'a' x 5000, rand_text(1 + rnd(30)), 'account_id ', 'other_account');
    }
    my $key = defined $claim ? $claim : 'account_id';
    my $claims;
    my $r = rand;
    if ($r < 0.07) {
        $claims = undef;
    } elsif ($r < 0.11) {
        $claims = pick('', ' ', '{}', 'null');
    } elsif ($r < 0.55) {
        $claims = good_claims($acct, $key);
    } elsif ($r < 0.87) {
        $claims = hostile_claims($acct, $key);
    } else {
        $claims = mutate(good_claims($acct, $key));
    }
    my $aid;
    $r = rand;
    if ($r < 0.55) {
        $aid = undef;
    } elsif ($r < 0.63) {
        $aid = '';
    } elsif ($r < 0.80) {
        $aid = uuid_spell($acct);
    } elsif ($r < 0.88) {
        $aid = uuid_spell(pick(@ACCOUNTS));
    } else {
        $aid = garbage_uuid();
    }
    return [$claim, $claims, $aid];
}

sub extra_members {
    my @m;
    push @m, [jstr('role'), jstr(pick('fuzz_api', 'web_anon', 'postgres', ''))] if chance(0.8);
    push @m, [jstr('exp'), jnum()] if chance(0.3);
    push @m, [jstr('aud'), jstr(rand_text(rnd(12)))] if chance(0.2);
    push @m, [jstr('sub'), jstr(uuid_spell(pick(@ACCOUNTS)))] if chance(0.2);
    push @m, [jstr('app_metadata'), jvalue(1)] if chance(0.2);
    push @m, [jstr(rand_text(1 + rnd(8))), jvalue(2)] if chance(0.2);
    return @m;
}

sub shuffle { my @a = @_; return @a if @a < 2; for (my $i = @a; --$i;) { my $j = rnd($i + 1); @a[$i, $j] = @a[$j, $i] } @a }

sub good_claims {
    my ($acct, $key) = @_;
    my @m = extra_members();
    push @m, [jstr($key), jstr(uuid_spell($acct))];
    return jobj(shuffle(@m));
}

sub hostile_claims {
    my ($acct, $key) = @_;
    my $k    = jstr($key);
    my $good = [$k, jstr($acct)];
    my $kind = rnd(9);
    if ($kind == 0) {    # deep nesting
        my $n = deep_depth();
        my $d = deep($n, pick('1', '"x"', '[]', '{}', jstr($acct), '', 'null'));
        my $p = rnd(5);
        return jobj([jstr('n'), $d], $good) if $p == 0;
        return jobj($good, [jstr('n'), $d]) if $p == 1;
        return jobj([$k, $d]) if $p == 2;                       # the claim itself is deep
        return deep($n, jobj($good), 'array') if $p == 3;      # the claims are not an object
        return jobj($good, [jstr('n'), substr($d, 0, length($d) - rnd(3) - 1)]);    # unbalanced
    }
    if ($kind == 1) {    # huge strings
        my $n = rand_size() * (chance(0.5) ? 1 : 4);
        $n = $opt{max_bytes} if $n > $opt{max_bytes};
        my $big = big_repeat($n);
        my $p = rnd(4);
        return jobj([jstr('big'), jstr($big, rnd(2))], $good) if $p == 0;
        return jobj($good, [jstr($big), jstr('v')]) if $p == 1;                 # a huge key
        return jobj([$k, jstr($acct . $big)]) if $p == 2;                       # a huge claim
        return jobj([jstr('a'), '"' . ('\\u00e9' x int($n / 6)) . '"'], $good);
    }
    if ($kind == 2) {    # escapes
        return pick(
            jobj([$k, jstr($acct, 2)]),
            jobj([jstr($key, 2), jstr($acct)]),
            jobj([jstr('x'), '"a\\u0000b"'], $good),
            jobj($good, [jstr('x'), '"\\u0000"']),
            jobj([$k, '"' . $acct . '\\u0000"']),
            jobj([jstr("$key\x{0}"), jstr($acct)]),
            jobj([jstr('s'), pick('"\\ud800"', '"\\udfff"', '"\\ud800\\u0041"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"',
                        '"\\ud800\\ud800"', '"\\u12"', '"\\u"', '"\\x41"', q{"\\'"}, '"\\U0041"', '"\\ud800\\n"')], $good),
            jobj($good, [jstr('s'), '"\\ud83d"']),
            jobj([$k, '"\\ud83d\\ude00' . $acct . '"']),
            jobj([$k, '"' . join('', map { sprintf '\\u%04x', ord } split //, uc $acct) . '"']),
        );
    }
    if ($kind == 3) {    # duplicate keys
        my $other = jstr(pick(@ACCOUNTS));
        my $bad   = pick('null', '1', jstr('nope'), '[]', jstr(''), jstr(uc $acct) . ' ');
        my $p     = rnd(6);
        return jobj($good, [$k, $bad]) if $p == 0;
        return jobj([$k, $bad], $good) if $p == 1;
        return jobj([$k, $other], $good) if $p == 2;
        return jobj($good, [$k, $other]) if $p == 3;
        return jobj(([$k, $other]) x (1 + rnd(1000)), $good) if $p == 4;
        return jobj($good, [jstr($key, 2), $other]);
    }
    if ($kind == 4) {    # wrong types for the claim
        return jobj([$k, pick('1', '-1.5e10', 'true', 'false', 'null', "[" . jstr($acct) . "]", "{\"id\":" . jstr($acct) . "}",
                    jstr(''), jstr(" $acct"), jstr("$acct\n"), '{}', '[]', jstr(substr($acct, 1)))], extra_members());
    }
    if ($kind == 5) {    # truncated, or with something after it
        my $t = good_claims($acct, $key);
        return truncate_json($t) if chance(0.6);
        return $t . pick('}', ',', ' x', "\n{}", ']', '"', ' ' x 10, "\x{0b}", "\x{a0}", '/* c */', $t);
    }
    if ($kind == 6) {    # not an object at the top
        return pick('[' . good_claims($acct, $key) . ']', jstr(good_claims($acct, $key)), jstr($acct), '1', 'true', 'null',
            '"', '[', '{', '}', ']', ':', ',', '[]', '""');
    }
    if ($kind == 7) {    # lexical oddities
        my $t = good_claims($acct, $key);
        return pick("\x{feff}$t", "/*x*/$t", $t =~ s/"/'/gr, "{$key: " . jstr($acct) . '}', jobj($good, [jstr('n'), pick(
                    'NaN', 'Infinity', '-Infinity', '01', '1.', '.5', '-', '1e', '+1', '0x10', '1e999999', '9' x 20000, '--1', 'tru', 'nul')]),
            jobj($good, [jstr('n'), '1']) =~ s/}$/,}/r, "\t\n\r $t \t\n\r", "\x{0b}$t", "\x{a0}$t",
            jobj([$k, jstr($acct)], [jstr(''), jstr('')]), '{"":' . jstr($acct) . '}');
    }
    # many members
    my @m = map { [jstr("k$_"), jvalue(2)] } 1 .. rnd(2000);
    splice @m, rnd(@m + 1), 0, $good;
    return jobj(@m);
}

sub max_metadata_bytes {
    return undef unless chance(0.08);
    return pick(2, 3, 9, 10, 11, 100, 1000, 65535, 65536, 65537, 1_000_000, 2147483647, 0, 1, -1, 'x', '2147483648', '1e3', '');
}

# ---------------------------------------------------------------- argument values

sub lit {
    my ($v) = @_;
    return 'NULL' unless defined $v;
    $v =~ s/'/''/g;
    return "'$v'";
}

sub gen_owner {
    my $r = rand;
    return pick(@OWNERS) if $r < 0.7;
    return uuid_spell(pick(@OWNERS)) if $r < 0.78;
    return rand_uuid() if $r < 0.84;
    return pick('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff') if $r < 0.87;
    return undef if $r < 0.94;
    return garbage_uuid();
}

sub gen_sandbox_id {
    my ($acct) = @_;
    my $r = rand;
    my $own = $SB_BY_ACCT{$acct} // [];
    return uuid_spell($own->[ rnd(scalar @$own) ]) if $r < 0.45 && @$own;
    return $SANDBOXES[ rnd(scalar @SANDBOXES) ][0] if $r < 0.65 && @SANDBOXES;
    return pick(@DELETED) if $r < 0.72 && @DELETED;
    return rand_uuid() if $r < 0.80;
    return pick('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff') if $r < 0.83;
    return undef if $r < 0.91;
    return garbage_uuid();
}

sub gen_grantee {
    my ($acct) = @_;
    my $r = rand;
    return pick(@ACCOUNTS) if $r < 0.7;
    return uuid_spell($acct) if $r < 0.78;    # itself: refused with 22023
    return rand_uuid() if $r < 0.85;
    return undef if $r < 0.92;
    return garbage_uuid();
}

sub gen_metadata {
    my ($limit) = @_;
    $limit = 65536 unless defined $limit && $limit =~ /^\d+$/ && $limit >= 2 && $limit <= 2147483647;
    my $r = rand;
    return [jobj(map { [jstr(rand_text(1 + rnd(10))), jvalue(1)] } 1 .. rnd(6)), undef] if $r < 0.30;
    if ($r < 0.42) {    # exactly around the limit: {"a": "xxx"} is 9 + n bytes as text
        my $n = $limit - 9 + pick(-1, 0, 1);
        if ($n >= 0 && $n <= $opt{max_bytes}) {
            return ['{"a": "' . ('x' x $n) . '"}', 9 + $n];
        }
        return ['{"a": "x"}', 10];
    }
    if ($r < 0.50) {    # large and random, near the limit
        my $target = int($limit * (0.9 + rand(0.2)));
        $target = $opt{max_bytes} if $target > $opt{max_bytes};
        my @m;
        my $len = 2;
        while ($len < $target) {
            my $v = jstr(big_repeat(1 + rnd(2000)));
            push @m, [jstr('k' . scalar @m), $v];
            $len += length($v) + 10;
        }
        return [jobj(@m), undef];
    }
    if ($r < 0.55) { return [jobj([jstr('big'), jstr(big_repeat(rand_size()), rnd(2))]), undef] }
    if ($r < 0.63) {
        return [pick('[]', '[1,2]', '"s"', '1', 'true', 'null', '[{"a":1}]', '""', '-0', '1e400'), undef];
    }
    if ($r < 0.68) { return [deep(deep_depth(), pick('1', '{}', '[]')), undef] }
    if ($r < 0.74) {
        return [pick('{"a":"\\u0000"}', '{"\\u0000":1}', '{"a":"\\ud800"}', '{"a":"\\udc00x"}', '{"a":"\\ud83d\\ude00"}',
                '{"\\ud83d\\ude00":"\\u00e9"}', '{"a":"' . ('\\u0041' x 1000) . '"}', jobj([jstr(rand_text(5), 2), jstr(rand_text(20), 2)])), undef];
    }
    if ($r < 0.78) { return ['{"a":1,"a":2,"a":' . jvalue(1) . '}', undef] }
    if ($r < 0.86) { return [mutate(jobj(map { [jstr(rand_text(1 + rnd(10))), jvalue(1)] } 1 .. 1 + rnd(4))), undef] }
    if ($r < 0.93) { return [undef, undef] }       # SQL NULL
    return ['OMIT', undef];
}

my @BUCKETS_OK  = ('my-bucket', 'abc', 'a.b.c', 'x' x 63, '123', 'data-2024.prod', 'a-b');
my @BUCKETS_BAD = ('ab', 'x' x 64, 'My-Bucket', 'a..b', '-ab', 'ab-', '192.168.0.1', 'xn--abc', 'sthree-x', 'x-s3alias',
    'x--ol-s3', 'a_b', "b\x{e9}cket", '', ' abc', 'abc ', "ab\nc", 'a/b', big_repeat(5000));
my @REGIONS     = ('us-east-1', 'eu-central-1', 'x', 'a' x 63, 'a' x 64, 'US-EAST-1', '', 'us east', "r\x{e9}gion", 'us_east_1');
my @ENDPOINTS   = ('https://s3.example.com', 'http://minio:9000', 'https://', 'http://', 'ftp://x', 'https://user:pw@host',
    'https://' . ('a' x 1020), 'https://' . ('a' x 1017), "https://h\x{e9}st", 'HTTPS://x', '', '//x', 'https://x@y');
my @CRED_KEYS   = ('secret', 'aws_secret_access_key', 'Pass-Word', 'ToKeN', 'x_apiKey', 'private_key', 'CREDENTIALS',
    'passwd', 'access-key', 'sessionToken', "p\x{e4}ssword", 'secret_' . ('x' x 3000));

sub gen_storage_config {
    my $r = rand;
    return undef if $r < 0.15;
    return 'OMIT' if $r < 0.25;
    if ($r < 0.80) {
        my @m;
        push @m, [jstr('bucket'), chance(0.7) ? jstr(pick(@BUCKETS_OK)) : chance(0.7) ? jstr(pick(@BUCKETS_BAD)) : jvalue(2)] if chance(0.85);
        push @m, [jstr('region'), chance(0.75) ? jstr(pick(@REGIONS[0 .. 3])) : chance(0.7) ? jstr(pick(@REGIONS)) : jvalue(2)] if chance(0.85);
        push @m, [jstr('endpoint'), chance(0.8) ? jstr(pick(@ENDPOINTS)) : jvalue(2)] if chance(0.3);
        push @m, [jstr('prefix'), chance(0.8) ? jstr(pick('p/', '', 'x' x 1024, 'x' x 1025, rand_text(1 + rnd(30)))) : jvalue(2)] if chance(0.3);
        push @m, [jstr(pick(@CRED_KEYS)), jstr(rand_text(10))] if chance(0.12);
        push @m, [jstr(pick('foo', '', 'Bucket', 'bucket ', 'region2', rand_text(1 + rnd(10)))), jvalue(2)] if chance(0.1);
        push @m, $m[ rnd(scalar @m) ] if @m && chance(0.05);
        return jobj(shuffle(@m));
    }
    return pick('[]', '"s3"', '1', 'null', '{"bucket":"my-bucket","region":"us-east-1"', mutate('{"bucket":"my-bucket","region":"us-east-1"}'),
        deep(deep_depth(), '1'), jobj([jstr('bucket'), jstr(big_repeat(rand_size()))], [jstr('region'), jstr('us-east-1')]));
}

sub gen_enum {
    my @labels = @_;
    my $r = rand;
    return pick(@labels) if $r < 0.82;
    return undef if $r < 0.88;
    return 'OMIT' if $r < 0.93;
    return pick('', 'FREE', 'gold', ' free', 'free ', "fr\x{e9}e", 'owner', 'viewer', rand_text(1 + rnd(20)));
}

sub gen_bool {
    return pick('true', 'false', 't', 'f', 'yes', 'off', '1', '0') if chance(0.85);
    return undef if chance(0.4);
    return 'OMIT' if chance(0.5);
    return pick('maybe', '', '2', 'tru', rand_text(5));
}

sub gen_page_size {
    my $r = rand;
    return pick(1, 2, 10, 100, 1000) if $r < 0.55;
    return pick(0, -1, 1001, 2147483647, -2147483648, 999, 1000, 1, 65536) if $r < 0.75;
    return undef if $r < 0.82;
    return 'OMIT' if $r < 0.9;
    return pick('2147483648', '-2147483649', 'abc', '1.5', '', ' 5', '5 ', '1e3', '0x10', '9' x 50);
}

sub gen_timestamp {
    my $r = rand;
    return 'OMIT' if $r < 0.3;
    return undef if $r < 0.4;
    return pick('2999-01-01 00:00:00+00', 'infinity', '2100-06-01', 'now', 'tomorrow') if $r < 0.7;
    return pick('2000-01-01', '-infinity', 'epoch', 'yesterday', '1970-01-01 00:00:00+00', '4714-11-24 00:00:00+00 BC',
        '294276-12-31 23:59:59+00', '294277-01-01', '2000-02-30', 'garbage', '', '2024-01-01 25:00', '2024-01-01 +99:99',
        '99999999-01-01', rand_text(10));
}

# ---------------------------------------------------------------- calls

# Each generator returns a hash: fn, method (GET/POST), kind (sandbox,
# connection, scalar, limits, view), args ([name, value|undef|'OMIT']), and
# facts for the oracles (name, metadata_len).
my %GEN = (
    current_account_id => sub { { kind => 'scalar', method => 'GET', args => [] } },
    tier_limits => sub { { kind => 'limits', method => 'GET', args => [['tier', gen_enum(qw(free pro enterprise))]] } },
    sandbox_create => sub {
        my ($acct, $mmb) = @_;
        my $name = gen_name();
        my ($meta, $mlen) = @{ gen_metadata($mmb) };
        my $prov = gen_enum(qw(platform_s3 platform_s3 custom_s3));
        my $tier = (defined $prov && $prov eq 'custom_s3' && chance(0.6)) ? 'enterprise' : gen_enum(qw(free free pro enterprise));
        my $cfg = (defined $prov && $prov eq 'custom_s3') || chance(0.15) ? gen_storage_config() : 'OMIT';
        my @a = (['name', $name], ['owner_id', gen_owner()]);
        push @a, ['tier', $tier] unless defined $tier && $tier eq 'OMIT';
        push @a, ['metadata', $meta] unless defined $meta && $meta eq 'OMIT';
        push @a, ['storage_provider_type', $prov] unless defined $prov && $prov eq 'OMIT';
        push @a, ['storage_config', $cfg] unless defined $cfg && $cfg eq 'OMIT';
        @a = shuffle(@a) if chance(0.3);
        return { kind => 'sandbox', method => 'POST', args => \@a, name => $name, metadata_len => $mlen };
    },
    sandbox_list_by_owner => sub {
        my ($acct) = @_;
        my @a = (['owner_id', gen_owner()]);
        for (['include_connections', gen_bool()], ['page_size', gen_page_size()],
            ['after_id', chance(0.6) ? 'OMIT' : gen_sandbox_id($acct)]) {
            push @a, $_ unless defined $_->[1] && $_->[1] eq 'OMIT';
        }
        return { kind => 'sandbox', method => 'GET', args => \@a };
    },
    sandbox_get => sub { { kind => 'sandbox', method => 'GET', args => [['sandbox_id', gen_sandbox_id($_[0])]] } },
    sandboxes_view => sub { { kind => 'view', method => 'GET', args => [['owner_id', gen_owner()]] } },
    sandbox_update => sub {
        my ($acct, $mmb) = @_;
        my @a = (['sandbox_id', gen_sandbox_id($acct)]);
        my ($name, $meta, $mlen);
        if (chance(0.7)) { $name = chance(0.9) ? gen_name() : undef; push @a, ['name', $name] }
        if (chance(0.6)) { ($meta, $mlen) = @{ gen_metadata($mmb) }; push @a, ['metadata', $meta] unless defined $meta && $meta eq 'OMIT' }
        return { kind => 'sandbox', method => 'POST', args => \@a, name => $name, metadata_len => $mlen };
    },
    sandbox_set_status => sub {
        my ($acct) = @_;
        my $st = gen_enum(qw(active suspended archived));
        $st = "gone" if defined $st && $st eq "OMIT";    # status has no default
        return { kind => 'sandbox', method => 'POST',
            args => [['sandbox_id', gen_sandbox_id($acct)], ["status", $st]] };
    },
    sandbox_delete => sub { { kind => 'sandbox', method => 'POST', args => [['sandbox_id', gen_sandbox_id($_[0])]] } },
    connection_grant => sub {
        my ($acct) = @_;
        my $role = gen_enum(qw(editor viewer viewer owner));
        $role = "admin" if defined $role && $role eq "OMIT";    # role has no default
        my @a = (['sandbox_id', gen_sandbox_id($acct)], ['grantee_account_id', gen_grantee($acct)]);
        push @a, ["role", $role];
        my $exp = gen_timestamp();
        push @a, ['expires_at', $exp] unless defined $exp && $exp eq 'OMIT';
        my $label;
        if (chance(0.5)) { $label = chance(0.85) ? gen_name() : undef; push @a, ['label', $label] }
        return { kind => 'connection', method => 'POST', args => \@a, name => $label };
    },
    connection_revoke => sub {
        my ($acct) = @_;
        if (@GRANTS && chance(0.6)) {
            my $g = $GRANTS[ rnd(scalar @GRANTS) ];
            return { kind => 'connection', method => 'POST', args => [['sandbox_id', $g->[0]], ['grantee_account_id', $g->[1]]] };
        }
        return { kind => 'connection', method => 'POST',
            args => [['sandbox_id', gen_sandbox_id($acct)], ['grantee_account_id', gen_grantee($acct)]] };
    },
    connection_list => sub {
        my ($acct) = @_;
        my $b = gen_bool();
        return { kind => 'connection', method => 'GET',
            args => [['sandbox_id', gen_sandbox_id($acct)], (defined $b && $b eq 'OMIT') ? () : ['include_revoked', $b]] };
    },
);
my @MIX = (
    [12, 'current_account_id'], [2, 'tier_limits'], [20, 'sandbox_create'], [9, 'sandbox_list_by_owner'],
    [9, 'sandbox_get'], [4, 'sandboxes_view'], [10, 'sandbox_update'], [5, 'sandbox_set_status'],
    [5, 'sandbox_delete'], [11, 'connection_grant'], [6, 'connection_revoke'], [5, 'connection_list'],
);

sub pick_fn {
    my $tot = 0;
    $tot += $_->[0] for @MIX;
    my $x = rand($tot);
    for (@MIX) { $x -= $_->[0]; return $_->[1] if $x < 0 }
    return 'sandbox_get';
}

# The SQL PostgREST would run for the call, selecting what the oracles need:
# R|rows|id or value|rows belong to the caller|stored names are NFC 1..255
sub call_sql {
    my ($c) = @_;
    my $args = join ', ', map { "$_->[0] => " . lit($_->[1]) } @{ $c->{args} };
    my $ref  = '(SELECT fuzz.ref_account())';
    my $fn   = $c->{fn};
    if ($c->{kind} eq 'scalar') {
        return "WITH pgrst_source AS (SELECT copass.current_account_id() AS pgrst_scalar)"
            . " SELECT '${MARK}R', 1, coalesce(pgrst_scalar::text, 'NONE'), true, true FROM pgrst_source;";
    }
    if ($c->{kind} eq 'limits') {
        return "WITH pgrst_source AS (SELECT pgrst_call.* FROM copass.$fn($args) pgrst_call)"
            . " SELECT '${MARK}R', count(*), '', true, true FROM pgrst_source;";
    }
    if ($c->{kind} eq 'connection') {
        return "WITH pgrst_source AS (SELECT pgrst_call.* FROM copass.$fn($args) pgrst_call)"
            . " SELECT '${MARK}R', count(*), coalesce(max(pgrst_call.connection_id::text), ''), true,"
            . " coalesce(bool_and(pgrst_call.label IS NULL OR (pgrst_call.label IS NFC NORMALIZED"
            . " AND length(pgrst_call.label) BETWEEN 1 AND 255)), true) FROM pgrst_source pgrst_call;";
    }
    my $from = $c->{kind} eq 'view'
        ? "SELECT s.* FROM copass.sandboxes s WHERE s.owner_id = " . lit($c->{args}[0][1])
        : "SELECT pgrst_call.* FROM copass.$fn($args) pgrst_call";
    return "WITH pgrst_source AS ($from)"
        . " SELECT '${MARK}R', count(*), coalesce(max(pgrst_call.sandbox_id::text), ''),"
        . " coalesce(bool_and(pgrst_call.account_id::text = $ref OR pgrst_call.is_external), true),"
        . " coalesce(bool_and(pgrst_call.name IS NFC NORMALIZED AND length(pgrst_call.name) BETWEEN 1 AND 255), true)"
        . " FROM pgrst_source pgrst_call;";
}

# A valid value for an argument, so that a call with one hostile argument
# gets past the others and into the deeper code
sub good_value {
    my ($fn, $arg, $acct) = @_;
    my $own = $SB_BY_ACCT{$acct} // [];
    return 'n-' . rnd(1_000_000_000) if $arg eq 'name' && chance(0.6);
    return 'dup-' . rnd(4) if $arg eq 'name' && chance(0.8);
    return pick(@NAMES) if $arg eq 'name';
    return pick(@OWNERS) if $arg eq 'owner_id';
    return pick(qw(free pro enterprise)) if $arg eq 'tier';
    return pick('{}', '{"team":"a"}', '{"n":1,"tags":["x"]}') if $arg eq 'metadata';
    return 'platform_s3' if $arg eq 'storage_provider_type';
    return undef if $arg eq 'storage_config';
    return pick('true', 'false') if $arg =~ /^include_/;
    return pick(1, 10, 100) if $arg eq 'page_size';
    return undef if $arg eq 'after_id';
    return pick(qw(active suspended archived)) if $arg eq 'status';
    return pick(qw(editor viewer)) if $arg eq 'role';
    return pick(undef, '2999-01-01 00:00:00+00') if $arg eq 'expires_at';
    return 'label-' . rnd(1000) if $arg eq 'label';
    return pick(grep { $_ ne $acct } @ACCOUNTS) if $arg eq 'grantee_account_id';
    if ($arg eq 'sandbox_id') {
        return $own->[ rnd(scalar @$own) ] if @$own && chance(0.85);
        return @SANDBOXES ? $SANDBOXES[ rnd(scalar @SANDBOXES) ][0] : rand_uuid();
    }
    return undef;
}

# One hostile argument at a time: every other argument and setting valid
sub clean_up {
    my ($c, $acct) = @_;
    my @args = @{ $c->{args} };
    return unless @args;
    my $target = $args[ rnd(scalar @args) ][0];
    $target = '' if chance(0.25);    # now and then nothing hostile at all
    my $custom = $target eq 'storage_config';
    for my $a (@args) {
        next if $a->[0] eq $target;
        if ($c->{fn} eq 'connection_revoke' && $a->[0] eq 'grantee_account_id' && $target ne 'sandbox_id') {
            my @mine = grep { ($_->[2] // '') eq $acct } @GRANTS;
            if (@mine && chance(0.8)) {
                my $g = $mine[ rnd(scalar @mine) ];
                ($args[0][1], $a->[1]) = ($g->[0], $g->[1]);
                next;
            }
        }
        $a->[1] = good_value($c->{fn}, $a->[0], $acct);
        $a->[1] = 'custom_s3' if $custom && $a->[0] eq 'storage_provider_type';
        $a->[1] = 'enterprise' if $custom && $a->[0] eq 'tier';
    }
    # platform_s3 takes no storage_config
    @args = grep { $_->[0] ne 'storage_config' || $custom } @args;
    $c->{args} = \@args;
    $c->{name} = undef unless $target eq 'name' || $target eq 'label';
    $c->{metadata_len} = undef unless $target eq 'metadata';
}

# One whole transaction for a session
sub make_call {
    my ($s) = @_;
    $s->{seq}++;
    srand(($opt{seed} * 1000003 + $s->{idx} * 100003 + $s->{seq} * 7 + $s->{gen}) % 4294967291);
    my $fname = pick_fn();
    my $acct = chance(0.7) ? $ACCOUNTS[ ($s->{idx} * 3 + rnd(3)) % @ACCOUNTS ] : pick(@ACCOUNTS);
    my $mmb = max_metadata_bytes();
    my $c = $GEN{$fname}->($acct, $mmb);
    $c->{fn} = $fname;
    $c->{acct} = $acct;
    $c->{mmb} = $mmb;
    my ($claim, $claims, $aid) = @{ gen_settings($acct) };
    $c->{role} = chance(0.03) ? 'fuzz_anon' : 'fuzz_api';
    if (chance(0.45)) {
        # clean settings, one hostile argument
        $c->{mode} = 'one-hostile-argument';
        clean_up($c, $acct);
        ($claim, $claims, $aid) = (undef, good_claims($acct, 'account_id'), chance(0.2) ? uuid_spell($acct) : undef);
        $c->{role} = 'fuzz_api';
        $c->{mmb} = $mmb = undef unless chance(0.3);
    } else {
        $c->{mode} = 'all-hostile';
    }
    my @set = ("set_config('request.method', " . lit($c->{method}) . ", true)",
        "set_config('request.path', " . lit($fname eq 'sandboxes_view' ? '/sandboxes' : "/rpc/$fname") . ", true)");
    push @set, "set_config('request.jwt.claims', " . lit($claims) . ", true)" if defined $claims;
    push @set, "set_config('copass.account_id', " . lit($aid) . ", true)" if defined $aid;
    push @set, "set_config('copass.account_claim', " . lit($claim) . ", true)" if defined $claim;
    my $mode = $c->{method} eq 'GET' ? 'READ ONLY' : 'READ WRITE';
    my @l = ("\\echo $MARK B $s->{seq}", "BEGIN ISOLATION LEVEL READ COMMITTED $mode;");
    push @l, "SELECT set_config('copass.max_metadata_bytes', " . lit($mmb) . ", true) IS NULL \\g /dev/null" if defined $mmb;
    push @l, "SET LOCAL ROLE $c->{role};",
        "SELECT " . join(",\n       ", map { "$_ IS NULL" } @set) . " \\g /dev/null",
        "\\echo $MARK S pre :SQLSTATE",
        "SELECT '${MARK}F', fuzz.ref_account(), current_setting('copass.max_metadata_bytes');",
        "\\echo $MARK S ref :SQLSTATE",
        call_sql($c),
        "\\echo $MARK S call :SQLSTATE",
        "\\if :ERROR", "ROLLBACK;", "\\else", "COMMIT;", "\\endif",
        "\\echo $MARK S end :SQLSTATE",
        "\\echo $MARK E $s->{seq}", '';
    my $sql = join "\n", @l;
    utf8::encode($sql);
    $c->{sql} = $sql;
    return $c;
}

# ---------------------------------------------------------------- sessions

my @sessions;
my %stat_fn;        # fn -> total
my %stat_state;     # state -> total
my %stat_fn_state;  # fn -> state -> n
my %findings_sig;   # signature -> count
my @findings;
my $nfinding = 0;
my $crashes = 0;
my $calls = 0;
my @slowest;
my $log_pos = 0;
my %crash_pids;     # backend pid -> log line
my $last_crash = 0; # when scan_log last saw a crash

sub spawn {
    my ($s) = @_;
    my ($in, $out);
    my $pid = open3($in, $out, undef, 'stdbuf', '-oL', '-eL', 'psql', '-X', '-q', '-A', '-t', '-F', '|',
        '-v', 'ON_ERROR_STOP=0', '-d', $opt{db});
    $in->blocking(0);
    $out->blocking(0);
    %$s = (%$s, pid => $pid, in => $in, out => $out, wbuf => '', rbuf => '', busy => 0, ready => 0,
        backend => 0, calls_here => 0, dead => 0, gen => ($s->{gen} // 0) + 1);
    $s->{wbuf} = join("\n", '\\set VERBOSITY verbose', '\\set SHOW_CONTEXT never', "SET statement_timeout = '60s';",
        "SET client_min_messages = warning;", "LOAD 'copass';", "SELECT '${MARK}P', pg_backend_pid();",
        "\\echo $MARK READY", '');
    $s->{started} = time;
}

sub close_session {
    my ($s) = @_;
    close $s->{in};
    close $s->{out};
    if (kill 0, $s->{pid}) {
        my $t = time;
        while (time - $t < 5) { last if waitpid($s->{pid}, WNOHANG) == $s->{pid}; sleep 0.05 }
        if (kill 0, $s->{pid}) { kill 'TERM', $s->{pid}; waitpid($s->{pid}, 0) }
    } else {
        waitpid($s->{pid}, 0);
    }
}

sub short {
    my ($v, $n) = @_;
    $n //= 160;
    return 'NULL' unless defined $v;
    my $t = $v;
    utf8::encode($t) if utf8::is_utf8($t);
    $t =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return length($t) > $n ? substr($t, 0, $n) . sprintf('…(%d bytes)', length $v) : $t;
}

sub finding {
    my ($kind, $c, $what) = @_;
    my $sig = "$kind $c->{fn} $what";
    $sig =~ s/\s+at \S+:\d+//;
    $sig =~ s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g;
    my $n = ++$findings_sig{$sig};
    return if $n > 3;    # the first three of each kind are enough
    $nfinding++;
    my $file = sprintf '%s/finding-%03d-%s.sql', $opt{out}, $nfinding, $kind;
    open my $f, '>:raw', $file or die "$file: $!";
    my $hdr = "-- copass fuzz finding $nfinding ($kind), seed $opt{seed}, session $c->{session} call $c->{seq}\n"
        . "-- function: $c->{fn} ($c->{mode})\n-- $what\n-- reference account: " . ($c->{ref} // '?') . "\n"
        . "-- The transaction as sent through psql (run it with psql -X -d <db with copass and scripts/fuzz's setup>):\n";
    $hdr =~ s/\n(?!--|$)/\n-- /g;
    print $f $hdr, $c->{sql};
    close $f;
    my $line = "FINDING $nfinding [$kind] $c->{fn}: $what";
    push @findings, "$line\n    saved: $file";
    print "$line\n    args: ", join(', ', map { "$_->[0]=" . short($_->[1], 80) } @{ $c->{args} }), "\n    saved: $file\n";
}

# The server log since we last looked: crash lines, by backend pid
sub scan_log {
    return unless $opt{log} && -r $opt{log};
    open my $f, '<:raw', $opt{log} or return;
    seek $f, $log_pos, 0;
    while (my $l = <$f>) {
        if ($l =~ /server process \(PID (\d+)\) (was terminated by (?:signal|exception)[^\n]*|exited with exit code (?!1\b)\d+)/) {
            $crash_pids{$1} = $2;
            $last_crash = time;
        } elsif ($l =~ /PANIC:|terminated by signal/) {
            $crash_pids{0} //= $l;
            $last_crash = time;
        }
    }
    $log_pos = tell $f;
    close $f;
}

sub is_copass_loc { defined $_[0] && $_[0] =~ $COPASS_SRC }

sub classify {
    my ($s, $c) = @_;
    $calls++;
    my ($state, $err, $step) = ('00000', undef, 'call');
    for my $st (qw(pre ref call end)) {
        my $e = $c->{errors}{$st};
        next unless $e && @$e;
        ($state, $err, $step) = ($e->[0]{state}, $e->[0], $st);
        last;
    }
    $stat_fn{ $c->{fn} }++;
    $stat_state{$state}++;
    $stat_fn_state{ $c->{fn} }{$state}++;
    my $msg = $err ? $err->{msg} : '';
    my $loc = $err ? ($err->{loc} // '?') : '';
    my $what = "SQLSTATE $state" . ($err ? " \"$msg\" at $loc" : '') . ($step ne 'call' ? " (in step $step)" : '');

    # SQLSTATE set
    if ($state ne '00000') {
        if ($state eq '57014') {
            finding('timeout', $c, $what);
        } elsif ($SPEC_STATE{$state} || $LIMIT_STATE{$state}) {
            # in the contract
        } elsif ($INPUT_STATE{$state} && !is_copass_loc($loc) && $step ne 'ref') {
            # a malformed literal, refused by PostgreSQL's type input
        } else {
            finding('sqlstate', $c, $what);
        }
    }
    # Book-keeping of what exists, from successful calls
    my ($rows, $val, $ok_acct, $ok_name) = @{ $c->{row} // [] };
    if ($state eq '00000' && $step eq 'call') {
        if ($c->{fn} eq 'sandbox_create' && $val) { remember_sandbox($val, ($c->{ref} // "") =~ /-/ ? $c->{ref} : $c->{acct}) }
        if ($c->{fn} eq 'sandbox_delete' && $val) { forget_sandbox($val) }
        if ($c->{fn} eq 'connection_grant') {
            my %a = map { $_->[0] => $_->[1] } @{ $c->{args} };
            push @GRANTS, [$a{sandbox_id}, $a{grantee_account_id}, $c->{ref}];
            shift @GRANTS while @GRANTS > 500;
        }
        finding("oracle", $c, "a returned row belongs to another account and is not external")
            if defined $ok_acct && $ok_acct ne "t" && ($c->{ref} // "") =~ /-/;
        finding('oracle', $c, "a returned name/label is not NFC or not 1..255 characters") if defined $ok_name && $ok_name ne 't';
    }

    # The account oracle: fuzz.ref_account() computed the answer with jsonb and uuid_in
    my $ref = $c->{ref};
    return unless defined $ref && $ref ne 'UNKNOWN' && $c->{role} eq 'fuzz_api' && $step eq 'call';
    return if $INPUT_STATE{$state} || $LIMIT_STATE{$state} || $state eq '57014';
    # copass refuses a missing or contradictory account with 42501 before
    # anything else; its other 42501s (access levels) do not mention accounts
    my $refused = $state eq "42501";
    my $account_refusal = $refused && $msg =~ /account/i;
    my $fn = $c->{fn};
    if ($fn eq 'current_account_id') {
        if ($ref eq 'CONFLICT') {
            finding('oracle', $c, "claims and copass.account_id name different accounts, but current_account_id() gave $what"
                . ($state eq '00000' ? " = $val" : '')) unless $refused;
        } elsif ($state ne '00000' || $val ne $ref) {
            finding('oracle', $c, "current_account_id() = " . ($state eq '00000' ? $val : $what) . ", reference $ref");
        }
    } elsif ($fn eq 'sandboxes_view') {
        if ($ref eq 'NONE' && $state eq '00000' && $rows > 0) {
            finding('oracle', $c, "the view showed $rows rows without an account");
        } elsif ($ref =~ /-/ && $account_refusal) {
            finding('oracle', $c, "the view refused a valid account $ref: $what");
        }
    } elsif ($fn ne 'tier_limits') {
        if ($ref eq 'CONFLICT' && !$refused) {
            finding('oracle', $c, "two different accounts, but $fn gave $what");
        } elsif ($ref eq 'NONE' && !$refused) {
            finding('oracle', $c, "no account, but $fn gave $what");
        } elsif ($ref =~ /-/ && $account_refusal) {
            finding('oracle', $c, "account $ref, but $fn gave $what");
        }
    }

    # Name and metadata rules (SPEC.md "Rules on input"), where the verdict is certain
    if (defined $c->{name} && length($c->{name}) < 200_000 && $step eq 'call') {
        my $nfc = NFC($c->{name});
        my $len = length $nfc;
        if ($state eq '22001' && $len <= 255) {
            finding('oracle', $c, "name/label of $len characters after NFC refused as too long");
        }
        if ($state eq '00000' && $fn =~ /^(sandbox_create|sandbox_update|connection_grant)$/) {
            my $bad = $len < 1 || $len > 255 || $nfc =~ /[\x00-\x1f\x7f-\x9f]/ || $nfc =~ /^[\x{20}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+$/;
            finding('oracle', $c, "name/label accepted against the rules (NFC length $len)") if $bad;
        }
    }
    if (defined $c->{metadata_len} && $step eq 'call') {
        my $limit = $c->{limit} || 65536;    # the setting as the server read it
        if ($msg =~ /metadata is larger/ && $c->{metadata_len} <= $limit) {
            finding('oracle', $c, "metadata of $c->{metadata_len} bytes refused with limit $limit");
        }
        if ($state eq '00000' && $c->{metadata_len} > $limit) {
            finding('oracle', $c, "metadata of $c->{metadata_len} bytes accepted with limit $limit");
        }
    }
}

sub handle_line {
    my ($s, $l) = @_;
    my $c = $s->{cur};
    if (index($l, $MARK) == 0) {
        my $rest = substr($l, length $MARK);
        if ($rest =~ /^ S (\w+) (\S*)/) {
            if ($c) {
                $c->{errors}{$1} = $s->{pending};
                if ($2 ne '00000' && $2 ne '' && !@{ $s->{pending} }) {
                    $c->{errors}{$1} = [{ state => $2, msg => '(no message)', loc => undef }];
                }
            }
            $s->{pending} = [];
        } elsif ($rest =~ /^F\|(.*)\|(\d*)$/) {
            if ($c) { $c->{ref} = $1 eq '' ? 'NONE' : $1; $c->{limit} = $2 }
        } elsif ($rest =~ /^R\|(.*)$/) {
            $c->{row} = [split /\|/, $1, -1] if $c;
        } elsif ($rest =~ /^P\|(\d+)/) {
            $s->{backend} = $1;
        } elsif ($rest =~ /^ READY/) {
            $s->{ready} = 1;
            $s->{pending} = [];
        } elsif ($rest =~ /^ E (\d+)/) {
            if ($c && $1 == $c->{seq}) {
                my $dt = time - $s->{t0};
                push @slowest, [$dt, $c->{fn}, length $c->{sql}];
                @slowest = (sort { $b->[0] <=> $a->[0] } @slowest)[0 .. ($#slowest < 4 ? $#slowest : 4)];
                classify($s, $c);
                $s->{busy} = 0;
                $s->{cur} = undef;
            }
        }
        return;
    }
    if ($l =~ /^(?:psql:[^:]*:\d+: )?(ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}): (.*)$/) {
        push @{ $s->{pending} }, { sev => $1, state => $2, msg => $3 };
        $s->{fatal} = $l if $1 ne 'ERROR';
    } elsif ($l =~ /^LOCATION:\s+(.*)$/) {
        my $p = $s->{pending};
        $p->[-1]{loc} //= $1 if @$p;
    } elsif ($l =~ /server closed the connection unexpectedly|connection to server was lost|no connection to the server|terminating connection/) {
        $s->{lost} = $l;
    }
}

sub session_died {
    my ($s) = @_;
    my $c = $s->{cur};
    close_session($s);
    $s->{dead} = time;
    return unless $c;
    # was this backend the one that crashed? wait a little for the log
    for (1 .. 20) { scan_log(); last if $crash_pids{ $s->{backend} }; sleep 0.1 }
    if (my $why = $crash_pids{ $s->{backend} }) {
        $crashes++;
        finding('crash', $c, "backend $s->{backend} $why");
    } elsif ($last_crash >= $s->{started}) {
        # another backend crashed and the postmaster ended this one: not this input's fault
        $c->{collateral} = 1;
    } else {
        finding('crash', $c, "psql lost its connection without a crash in the server log: " . ($s->{lost} // $s->{fatal} // 'EOF'));
        $crashes++;
    }
}

# ---------------------------------------------------------------- main loop

$| = 1;
if (@ARGV && $ARGV[0] eq '--generate') {
    # generator only, no database: scripts/fuzz.pl --generate N [session]
    my $s = { idx => $ARGV[2] // 0, seq => 0, gen => 1 };
    for (1 .. ($ARGV[1] // 100)) {
        my $t = time;
        my $c = make_call($s);
        printf "%6d %-22s %9d bytes %.3f s\n", $s->{seq}, $c->{fn}, length $c->{sql}, time - $t;
    }
    exit 0;
}
my $t_start = time;
my $deadline = $t_start + $opt{seconds};
print "copass fuzz: seed $opt{seed}, $opt{seconds} s, $opt{sessions} sessions, inputs up to $opt{max_bytes} bytes, findings in $opt{out}\n";
for my $i (0 .. $opt{sessions} - 1) {
    my $s = { idx => $i, seq => 0, pending => [] };
    spawn($s);
    push @sessions, $s;
}
my $last_report = time;
my $stop = 0;
$SIG{INT} = $SIG{TERM} = sub { $stop = 1 };
$SIG{PIPE} = 'IGNORE';

while (1) {
    my $now = time;
    my $running = ($now < $deadline && !$stop && $crashes < $opt{max_crashes});
    my $active = 0;
    for my $s (@sessions) {
        if ($s->{dead}) {
            # restart once the server accepts connections again
            if ($running && $now - $s->{dead} > 2 && system('pg_isready -q -d ' . $opt{db}) == 0) {
                spawn($s);
            }
            next;
        }
        $active++;
        if ($s->{ready} && !$s->{busy} && $running) {
            if ($opt{reconnect} && $s->{calls_here} >= $opt{reconnect}) {
                # a fresh backend now and then: the first call prepares every plan again
                print {$s->{in}} "\\q\n";
                close_session($s);
                spawn($s);
                next;
            }
            my $c = make_call($s);
            $c->{session} = $s->{idx};
            $c->{seq} = $s->{seq};
            $s->{cur} = $c;
            $s->{busy} = 1;
            $s->{t0} = time;
            $s->{calls_here}++;
            $s->{wbuf} .= $c->{sql};
        }
        if ($s->{busy} && time - $s->{t0} > $opt{call_timeout}) {
            finding('hang', $s->{cur}, sprintf('no answer after %d s', time - $s->{t0}));
            kill 'TERM', $s->{pid};
            close_session($s);
            $s->{dead} = time;
            $s->{cur} = undef;
        }
    }
    last if !$running && !grep { !$_->{dead} && ($_->{busy} || length $_->{wbuf}) } @sessions;
    last if !$running && !$active;

    my $rsel = IO::Select->new(map { $_->{out} } grep { !$_->{dead} } @sessions);
    my $wsel = IO::Select->new(map { $_->{in} } grep { !$_->{dead} && length $_->{wbuf} } @sessions);
    my ($r, $w) = IO::Select->select($rsel, $wsel, undef, 0.5);
    for my $s (@sessions) {
        next if $s->{dead};
        if ($w && grep { $_ == $s->{in} } @$w) {
            my $n = syswrite($s->{in}, $s->{wbuf}, 1 << 20);
            substr($s->{wbuf}, 0, $n, '') if $n;
            if (!defined $n && !$!{EAGAIN}) { session_died($s); next }
        }
        if ($r && grep { $_ == $s->{out} } @$r) {
            my $n = sysread($s->{out}, $s->{rbuf}, 1 << 20, length $s->{rbuf});
            if (!$n && !(defined $n ? 0 : $!{EAGAIN})) {
                # EOF: handle what was left, then the death
                handle_line($s, $_) for split /\n/, $s->{rbuf};
                $s->{rbuf} = '';
                session_died($s);
                next;
            }
            while ((my $i = index($s->{rbuf}, "\n")) >= 0) {
                my $line = substr($s->{rbuf}, 0, $i + 1, '');
                chomp $line;
                handle_line($s, $line);
            }
        }
    }
    if (time - $last_report > 30) {
        $last_report = time;
        scan_log();
        printf "  %4d s: %d calls, %d findings, %d crashes\n", time - $t_start, $calls, $nfinding, $crashes;
    }
}
for my $s (@sessions) {
    next if $s->{dead};
    print {$s->{in}} "\\q\n";
    close_session($s);
}
sleep 0.5;
scan_log();
for my $pid (sort keys %crash_pids) {
    # a crash no session was blamed for (e.g. an auxiliary process)
    unless (grep { /backend $pid / } @findings) {
        push @findings, "FINDING [crash] server log: process $pid $crash_pids{$pid}";
        $nfinding++;
    }
}

# ---------------------------------------------------------------- report

my $elapsed = time - $t_start;
printf "\ncopass fuzz: seed %s: %d calls in %.0f s (%.0f/s), %d sessions\n", $opt{seed}, $calls, $elapsed, $calls / ($elapsed || 1), $opt{sessions};
my @states = sort { $stat_state{$b} <=> $stat_state{$a} || $a cmp $b } keys %stat_state;
printf "\n%-22s %8s  %s\n", 'calls per function', 'calls', join(' ', map { sprintf '%7s', $_ } @states);
for my $fn (sort { $stat_fn{$b} <=> $stat_fn{$a} } keys %stat_fn) {
    printf "%-22s %8d  %s\n", $fn, $stat_fn{$fn}, join(' ', map { sprintf '%7s', $stat_fn_state{$fn}{$_} // '.' } @states);
}
printf "%-22s %8d  %s\n", 'total', $calls, join(' ', map { sprintf '%7d', $stat_state{$_} } @states);
print "\ncalls per SQLSTATE:\n";
printf "  %s %8d%s\n", $_, $stat_state{$_},
    ($_ eq '00000' ? '  success' : $SPEC_STATE{$_} ? '  SPEC.md' : $INPUT_STATE{$_} ? '  type input (malformed literal)'
        : $LIMIT_STATE{$_} ? '  program limit' : '  UNEXPECTED') for @states;
print "\nslowest answers (wall clock; includes time the driver spent generating other sessions' huge inputs):\n";
printf "  %6.2f s  %-22s %d bytes of SQL\n", @$_ for @slowest;
print "\nfindings: $nfinding (signatures: " . scalar(keys %findings_sig) . ")\n";
print "  $_\n" for @findings;
for my $sig (sort keys %findings_sig) { printf "  %5d x %s\n", $findings_sig{$sig}, $sig }
print "inputs of findings: $opt{out}\n" if $nfinding;
exit($nfinding ? 1 : 0);
