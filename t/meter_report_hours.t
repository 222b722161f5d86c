#!/usr/bin/perl

# fcgi-runner meter --format html keeps, per group and hour, counts and
# a histogram of durations, not each run: a month of two million runs
# charts within 64 MiB of address space (each run kept, it was 48 bytes
# a line with its tenant's copy, and twice that while growing: out of
# memory, no page). Its p99 is the longest run of the bin of the
# nearest rank: exact when the bin holds one value, never under the
# exact p99, at most a sixteenth over it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use List::Util qw(shuffle);

my $t = FaasTest->new;
my $p = $t->prefix;
my $bin = "$FaasTest::BUILD/fcgi-runner";

sub line {
    my ($time, $fn, $ms) = @_;
    my @tm = gmtime $time;
    return sprintf('time=%04d-%02d-%02dT%02d:%02d:%02d+00:00 function=%s '
                   . 'tenant=%s outcome=ok duration=%.3f billed=%d '
                   . "memory_size=131072\n", $tm[5] + 1900, $tm[4] + 1,
                   @tm[3, 2, 1, 0], $fn, "t$fn", $ms, int($ms) + 1);
}

sub p99_label {
    my ($page) = @_;
    return $page =~ m{<title>p99 ms per hour</title><text [^>]*>max ([\d.]+) ms<}
           ? $1 : undef;
}

my $start = 1790812800;     # 2026-10-01T00:00:00Z

# one hour of 1..1000 ms in any order: the exact p99 is 990 ms
srand(7);
FaasTest::write_file("$p/spread.log", join '',
    map { line($start + $_ % 3600, 'spread', $_) } shuffle(1 .. 1000));
my $got = p99_label(scalar `$bin meter --format html $p/spread.log`);
ok(defined $got && $got >= 990 && $got <= 990 * (1 + 1 / 16),
   "p99 of 1..1000 ms: ${\ ($got // 'none')} ms, from 990 to 1051.9");

# runs of the same length: exact, as the longest of a single bin
FaasTest::write_file("$p/same.log", join '',
    map { line($start + $_, 'same', $_ % 2 ? 7.25 : 0.5) } 1 .. 101);
is(p99_label(scalar `$bin meter --format html $p/same.log`), '7.25',
   'p99 of runs of 7.25 and 0.5 ms: 7.25, exact');

# a month: 2,000,000 runs of 20 functions of 10 to 50 ms, in time
# order, with a tenant each, read from a pipe under 64 MiB
my $gen = "$p/gen.pl";
FaasTest::write_file($gen, <<"EOF2");
srand(11);
for my \$i (0 .. 1_999_999) {
    my \@tm = gmtime($start + int(\$i * 30 * 86400 / 2_000_000));
    printf('time=%04d-%02d-%02dT%02d:%02d:%02d+00:00 function=f%d '
           . 'tenant=t%d outcome=ok duration=%.3f billed=50 '
           . "memory_size=131072\\n", \$tm[5] + 1900, \$tm[4] + 1,
           \@tm[3, 2, 1, 0], \$i % 20, \$i % 20, 10 + rand(40));
}
EOF2
my $page = `perl $gen | prlimit --as=67108864 $bin meter --format html - 2>$p/month.err`;
is($? >> 8, 0, 'a month of 2,000,000 runs under 64 MiB: exit 0')
    or diag(FaasTest::read_file("$p/month.err"));
like($page, qr{<dd id="t-inv">2000000</dd>}, '... all of them counted');
like($page, qr{Over time, per day}, '... charted per day');
my ($max) = $page =~ m{<title>p99 ms per day</title><text [^>]*>max ([\d.]+) ms<};
ok(defined $max && $max >= 49 && $max <= 50,
   "... the p99 of 10-50 ms: ${\ ($max // 'none')} ms");
my ($top) = $page =~ m{<h2>The top functions, over time</h2>(.*)}s;
my $charts = () = ($top // '') =~ /<svg class="chart /g;
is($charts, 15, '... and the five costliest functions charted, three each');

$t->done;
done_testing;
