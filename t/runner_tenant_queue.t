#!/usr/bin/perl

# One tenant's queues cannot hold every connection the runner takes: a
# request waits on a connection of its own, and when connections run
# short a tenant whose clients' requests wait on more than a quarter of
# max_connections gets no more waiting (503 at once, said). Promise:
# another tenant's request is answered at once while the first floods
# its slow function; those of the flood that wait are served.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FaasTest->new;
my $p = $t->prefix;
my $gate = $t->functions_dir . '/slow/gate';

# one at a time, each until the gate opens (20 s at most)
$t->function('slow', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "queue = 200\nqueue_timeout = 60s\ntenant = acme\n",
             'run.sh' => "#!/bin/sh\ni=0\nwhile [ ! -e $gate ] "
                         . "&& [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); "
                         . "done\nprintf 'Content-Type: text/plain\\r\\n"
                         . "\\r\\nslow\\n'\n");
$t->function('fast', "exec = ./run.sh\nmode = cgi\ntenant = other\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                         . "\\r\\n\\r\\nfast\\n'\n");

$t->start_runner(conf => "max_connections = 40\n");
$t->start_nginx($t->faas_location);

# 45 of acme's at once: more than the runner takes
my @s = map { $t->http_start('/fn/slow') } 1 .. 45;
sleep 1;

my $t0 = time;
my $r = $t->http_get('/fn/fast', timeout => 15);
my $took = time - $t0;
is($r->{status}, 200, 'another tenant\'s request while acme floods');
cmp_ok($took, '<', 5, sprintf('... answered at once (%.2f s)', $took));
ok($t->wait_log(qr/function "slow": its tenant "acme" has \d+ requests waiting, more than a quarter of max_connections 40, and connections run short: 503/, 5),
   'the runner says why acme\'s others are refused')
    or diag($t->runner_log);

# the gate opens: those that waited are served, the rest were 503
FaasTest::write_file($gate, '');
my %by;
$by{ (FaasTest::http_finish($_, timeout => 30) // {})->{status} // 0 }++
    for @s;
cmp_ok($by{200} // 0, '>=', 10, "the ones that waited are served ("
       . ($by{200} // 0) . ')');
cmp_ok($by{503} // 0, '>=', 5, "the rest were refused 503 ("
       . ($by{503} // 0) . ')');
is(($by{200} // 0) + ($by{503} // 0), 45, '... and nothing else')
    or diag(explain(\%by));

# nothing is left counted: the same flood again is served as before
unlink $gate;
@s = map { $t->http_start('/fn/slow') } 1 .. 5;
sleep 1;
FaasTest::write_file($gate, '');
my $ok = grep { ((FaasTest::http_finish($_, timeout => 30) // {})->{status}
                // 0) == 200 } @s;
is($ok, 5, 'afterwards five wait and are served: the count went back');

$t->done;

done_testing;
