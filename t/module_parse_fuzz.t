#!/usr/bin/perl

# The module's response record parser under libFuzzer, linked alone
# (t/codec/module_parse_fuzz.c), for a bounded time, seeded with the
# responses the protocol tests send: whole responses, measurement
# records, stderr, padding, records split at every size.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params);
use Test::More;

my $fuzz = "$FaasTest::BUILD/t/module_parse_fuzz";
BAIL_OUT("no $fuzz: make test builds it with clang") unless -x $fuzz;

my $t = FaasTest->new;
my $corpus = $t->prefix . '/corpus';
mkdir $corpus;

my @seeds = (
    fcgi_record(6, 1, "Content-Type: text/plain\r\n\r\nhello\n")
        . fcgi_record(6, 1, '') . fcgi_record(3, 1, pack('NCx3', 0, 0)),
    fcgi_record(6, 1, "Status: 404 Not Found\r\n\r\n", 3)
        . fcgi_record(7, 1, "oops\n")
        . fcgi_record(100, 1, fcgi_params(outcome => 'ok', duration => 5))
        . fcgi_record(3, 1, pack('NCx3', 0, 0)),
    fcgi_record(6, 1, 'x' x 65535),
    fcgi_record(11, 0, "\x64" . "\0" x 7) . fcgi_record(255, 1, 'junk', 255),
);
for my $i (0 .. $#seeds) {
    for my $split (0, 6, 22) {
        FaasTest::write_file("$corpus/seed-$i-$split", chr($split)
                             . $seeds[$i]);
    }
}

# a finding is written into the prefix, not into the checkout
my $art = $t->prefix . '/';
my $out = `$fuzz -max_total_time=10 -rss_limit_mb=1024 -artifact_prefix=$art $corpus 2>&1`;
is($? >> 8, 0, 'libFuzzer: 10 s without a crash, overflow or broken '
   . 'invariant') or diag(substr($out, -3000));
my ($runs) = $out =~ /Done (\d+) runs/;
ok($runs && $runs > 1000, "and it ran ($runs runs)");

done_testing;
