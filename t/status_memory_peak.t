#!/usr/bin/perl

# The status's memory_peak_bytes is the largest peak of one of a
# function's workers, whenever it was. A metered invocation resets its
# worker's peak (VmHWM, through clear_refs) to measure its own: the
# status read only the peak since the last reset (of a live worker) or
# wait4()'s, also only since (of an ended one), so a worker that once
# took 64 MB and then served small requests showed a few MB.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $fn = $t->testfn;
my $log = $t->prefix . '/faas.log';

$t->function('big', "exec = $fn\nmax_instances = 1\n");
$t->start_runner;
$t->start_metered_nginx($log, <<'EOF2');
        location = /faas/status {
            faas_status;
            faas_pass runner;
        }
EOF2

sub peak {
    my $r = $t->http_get('/faas/status?format=json&function=big');
    my $s = $r && $r->{status} == 200 ? eval { decode_json($r->{body}) }
                                      : undef;
    return $s ? $s->{functions}[0]{memory_peak_bytes} : -1;
}

is($t->http_get('/fn/big?op=alloc&mb=64')->{status}, 200,
   'one invocation takes 64 MB');
is($t->http_get('/fn/big?op=env')->{status}, 200, 'then small ones')
    for 1 .. 2;

my $l = FaasTest::log_line($log, 1);
cmp_ok($l->{memory} // 0, '>=', 64 * 1024,
       'its line: 64 MB (' . ($l->{memory} // '-') . ' kB)');

my $peak = peak();
cmp_ok($peak, '>=', 64 * 1024 * 1024,
       "the status: the worker's largest peak, 64 MB ($peak)");

is($t->http_get('/fn/big?op=env')->{status}, 200, 'another small one');
cmp_ok(peak(), '>=', 64 * 1024 * 1024, '... the peak stays');

done_testing();
