#!/usr/bin/perl

# The runner's FastCGI codec on its own: the C driver's checks, then the
# libFuzzer target for a bounded time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $B = $FaasTest::BUILD;

my $out = `$B/t/codec_test 2>&1`;
is($? >> 8, 0, 'codec driver passes') or diag($out);
my @not = $out =~ /^(not ok .*)$/mg;
my ($n) = $out =~ /^1\.\.(\d+)/m;
ok($n && $n >= 9, "it ran its $n checks");
ok(!@not, 'none failed') or diag(join "\n", @not);

BAIL_OUT("no $B/t/fcgi_fuzz: make test builds it with clang")
    unless -x "$B/t/fcgi_fuzz";

my $dir = FaasTest->new->prefix;
$out = `$B/t/fcgi_fuzz -max_total_time=15 -rss_limit_mb=1024 -artifact_prefix=$dir/ $dir 2>&1`;
is($? >> 8, 0, 'libFuzzer: 15 s without a crash, leak or overflow')
    or diag(substr($out, -3000));
like($out, qr/Done \d+ runs/, 'and it ran');

done_testing;
