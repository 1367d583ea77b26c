#!/usr/bin/perl
# bench/cgself.pl FILE [N] [OPS]: the N functions with the most self cost and
# the N with the most inclusive cost (Ir, divided by OPS when given) in one
# callgrind dump (written with --compress-strings=no --compress-pos=no).
# Inclusive = self + the cost of the calls a function makes to other
# functions; recursion levels stay apart (f, f'2, ...), as callgrind names
# them.  callgrind_annotate 3.19 attributes all the self cost of a
# --dump-before part to its first frame, hence this script.
use strict;
use warnings;
my ($file, $n, $ops) = @ARGV;
$n //= 40;
$ops ||= 1;
open(my $fh, '<', $file) or die "$file: $!\n";
my ($ob, $fn, $cfn, $call, $total, %self, %incl) = ('?', '?', '?', 0, 0);
while (<$fh>) {
    if (/^ob=(.*)/) { $ob = $1; $ob =~ s{.*/}{}; next }
    if (/^fn=(.*)/) { $fn = "$1 [$ob]"; next }
    if (/^cfn=(.*)/) { $cfn = $1; next }
    if (/^calls=/) { $call = 1; next }
    if (/^(?:summary|totals):\s+(\d+)/) { $total = $1; next }
    if (/^[+-]?\d+\s+(\d+)\s*$/) {
        my $v = $1;
        if ($call) {
            $call = 0;
            my $callee = $cfn; $callee =~ s/ \[.*//;
            (my $me = $fn) =~ s/ \[.*//;
            $incl{$fn} += $v unless $callee eq $me;
        } else {
            $self{$fn} += $v;
            $incl{$fn} += $v;
        }
    }
}
close $fh;
printf "total %d Ir, %d per op\n", $total, $total / $ops;
for my $what (['self', \%self], ['inclusive', \%incl]) {
    my ($name, $h) = @$what;
    print "\n$name Ir per op (share of total):\n";
    my $i = 0;
    for my $k (sort { $h->{$b} <=> $h->{$a} } keys %$h) {
        last if $i++ >= $n;
        printf "%12d %5.1f%%  %s\n", $h->{$k} / $ops, $total ? 100 * $h->{$k} / $total : 0, $k;
    }
}
