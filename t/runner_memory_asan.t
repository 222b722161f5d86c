#!/usr/bin/perl

# The tests that measure the runner's resident memory run the plain
# build; here they run again against the ASan+UBSan build (the memory
# figures skipped), so that what they do to the runner (floods, clients
# that never read, huge bodies) is checked for sanitizer reports too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

like($FaasTest::RUNNER, qr/asan/, 'the sanitizer build is there');

local $ENV{TEST_FAAS_MEMORY_UNDER_ASAN} = 1;
local $ENV{TEST_FAAS_TIMEOUT} = 240;
alarm 900;

for my $file (qw(runner_bodies hostile_floods runner_clients)) {
    FaasTest::run_test_file($file, 'against the ASan runner');
}

done_testing;
