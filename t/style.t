#!/usr/bin/perl

# make lint: the rules of STYLE.md that a tool can check (80 columns, no
# tabs, no trailing spaces, no // comments) hold in all our C.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $out = `make -s -C $FaasTest::ROOT lint 2>&1`;
is($? >> 8, 0, 'make lint passes') or diag($out);
like($out, qr/lint: \d+ files clean/, 'and looked at our files');

done_testing;
