#!/usr/bin/perl

# The runner's hardest tests again, against the runner built with
# AddressSanitizer and UndefinedBehaviorSanitizer: each file must pass,
# and its teardown fails on any sanitizer line in the runner's log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $asan = "$FaasTest::BUILD/fcgi-runner-asan";

BAIL_OUT("no $asan: make test builds it") unless -x $asan;

local $ENV{TEST_FAAS_RUNNER} = $asan;
local $ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0';
local $ENV{UBSAN_OPTIONS} = 'print_stacktrace=1';

for my $file (qw(runner_protocol runner_failures runner_cgi runner_reload
                 runner_signals runner_limits meter_variables))
{
    my $out = `$^X -I$FindBin::Bin/lib $FindBin::Bin/$file.t 2>&1`;
    my $rc = $? >> 8;
    my ($planned) = $out =~ /^1\.\.(\d+)/m;
    my @not = $out =~ /^(not ok .*)$/mg;
    ok($rc == 0 && $planned && !@not, "$file.t under ASan and UBSan")
        or diag(join("\n", @not) . "\n" . substr($out, -3000));
}

done_testing;
