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

FaasTest->new->libfuzzer('fcgi_fuzz', 15, 1000);

done_testing;
