#!/usr/bin/perl

# A request that crashes its worker runs once (README, "What clients
# get when things go wrong"). php-cgi leaves the empty end of STDIN in
# its socket while its script runs, so a script that dies by a signal
# (a segfault, the OOM killer) leaves bytes unread and the kernel resets
# the connection, as it does for a worker that retired before reading
# its next request. The runner took the reset for the second and sent
# the request to another worker: run twice here, and up to five times
# (17 with the bound of 16) where warm workers took it in turn. Promise: what decides is the
# worker's exit, an exit of its own (retiring) or a signal (a crash):
# the crashing GET runs once and is a 502. (Only an exit with code 0
# is a retirement: no test here makes a libfcgi or php-cgi worker exit
# with another code after a reset of a request that may be sent again.)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;

# each run writes its name in the function's /tmp (shared by its
# workers); ?crash then dies by SIGSEGV before any output
my $php = <<'EOF_PHP';
<?php
$q = $_SERVER['QUERY_STRING'];
if ($q === 'count') {
    echo @file_get_contents('/tmp/runs');
    exit;
}
file_put_contents('/tmp/runs', "$q\n", FILE_APPEND);
if ($q === 'crash') {
    posix_kill(getmypid(), 11);
    sleep(5);
}
echo "ran $q\n";
EOF_PHP

# one worker: warm (it has served: a retiring one's request may be sent
# again, never a fresh one's) when the crashing request comes
$t->function('php', "exec = php-cgi\nscript = app.php\nmax_instances = 1\n"
                    . "memory = 256M\n", 'app.php' => $php);
# a libfcgi program that exits with a code mid-request (its fatal path)
$t->function('quits', "exec = " . $t->testfn . "\nmax_instances = 1\n");
$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/php?warm')->{status}, 200, 'the worker warm');

my $r = $t->http_get('/fn/php?crash', timeout => 30);
is($r->{status}, 502, 'a script that dies by a signal: 502');

my $runs = $t->http_get('/fn/php?count')->{body} // '';
my $crashes = () = $runs =~ /^crash$/mg;
is($crashes, 1, "... and it ran once ($crashes)");

# a GET with a body over libfcgi's read, its worker gone mid-request
# with exit(3): some of the body went to it, so it is never sent again
is($t->http_get('/fn/quits')->{status}, 200, 'quits: warm');
$r = $t->http("GET /fn/quits?op=exit HTTP/1.0\r\nHost: localhost\r\n"
              . "Content-Length: 20000\r\n\r\n" . ('b' x 20000));
is($r->{status}, 502, 'quits: exit(3) mid-request: 502');

my $log = $t->runner_log;
unlike($log, qr/of "quits" [^\n]*retrying the request/,
       '... not sent to another worker');
like($log, qr/of "php" exited on signal 11/, 'the runner says how it ended');
like($log, qr/of "php" (?:exited on signal 11 while serving a request|reset the connection mid-request)/,
     '... with the request');
unlike($log, qr/of "php" [^\n]*retrying the request/,
       'and sent it to no other worker');

$t->done;
done_testing;
