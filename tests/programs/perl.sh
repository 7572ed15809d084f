#!/bin/sh
# perl on the malloc shim: a large hash built, read back, half deleted,
# sorted, joined and split again; every figure checked against the value
# computed in closed form.
. "$(dirname "$0")/lib.sh"
need perl perl
N=300000

if phase setup; then
	cat >"$WORK/hash.pl" <<'PERL'
use strict; use warnings;
my $n = shift;
my %h;
$h{"k$_"} = $_ * 2 for 1 .. $n;
my $sum = 0;
$sum += $h{"k$_"} for 1 .. $n;
delete $h{"k$_"} for grep { $_ % 2 } 1 .. $n;
my @k = sort keys %h;
my $joined = join(",", map { "$_=$h{$_}" } @k);
my @back = split /,/, $joined;
my %again = map { split /=/ } @back;
my $vsum = 0;
$vsum += $_ for values %again;
my $long = "";
$long .= sprintf("%06d;", $_) for 1 .. $n / 3;
my $count = () = $long =~ /;/g;
print scalar(@k), " $sum $k[0] $k[-1] ", scalar(keys %again), " $vsum $count\n";
PERL
fi

if phase run; then
	on_kmm perl "$WORK/hash.pl" $N >"$WORK/out"
fi

if phase verify; then
	# evens 2..N: N/2 keys, values 2i: sum 4 * (N/2)(N/2+1)/2
	want=$(awk -v n=$N 'BEGIN { h = n / 2; lo = "k2"; hi = "k2"
		for (i = 2; i <= n; i += 2) { k = "k" i; if (k < lo) lo = k; if (k > hi) hi = k }
		printf "%d %.0f %s %s %d %.0f %d\n", h, n * (n + 1), lo, hi, h, 2 * h * (h + 1), int(n / 3) }')
	expect_eq "hash figures" "$(cat "$WORK/out")" "$want"
fi
