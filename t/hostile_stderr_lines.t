#!/usr/bin/perl

# A function whose stderr, with no client to take it, is a flood of the
# shortest lines: the runner logs at most 8 KB of it a second a worker,
# but a log line each was 4,096 lines a second ("a\n" is two bytes).
# Promise: each log line counts 64 bytes of its own against the rate,
# about 124 lines a second; what is not logged is counted.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $head = "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'";
$t->function('shortlog', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "timeout = 3s\n",
             'run.sh' => "#!/bin/sh\n$head\nexec >&-\nyes a >&2\n");
$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/shortlog')->{body}, "ok\n",
   'answered, then stderr flooded with "a" lines');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /"shortlog" \(pid \d+\): \d+ bytes of stderr not logged/ }, 10),
   '... what was not logged is counted');
my $n = () = $t->runner_log =~ /"shortlog" \(pid \d+\) stderr: "a"$/mg;
# 3 s, its timeout, of 124 lines a second (12,297 before)
cmp_ok($n, '<=', 1000, "$n log lines of it");
cmp_ok($n, '>=', 100, '... not none');
is($t->http_get('/fn/shortlog')->{body}, "ok\n", 'its slot is free');

$t->done;

done_testing;
