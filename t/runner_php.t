#!/usr/bin/perl

# PHP through php-cgi in FastCGI mode: the example function, the script
# key, reused workers, POST forms, retirement in step with max_requests.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;

my $php = <<'EOF_PHP';
<?php
header('Content-Type: text/plain');
header('X-Script: ' . basename($_SERVER['SCRIPT_FILENAME']));
echo "pid=", getmypid(), "\n";
echo "method=", $_SERVER['REQUEST_METHOD'], "\n";
echo "name=", $_POST['name'] ?? '', "\n";
echo "q=", $_GET['q'] ?? '', "\n";
echo "children=", getenv('PHP_FCGI_CHILDREN') === false ? 'unset' : 'set', "\n";
EOF_PHP

# workers are told apart by the pid php reports: the host's only without
# a pid namespace (in one every php-cgi is process 2); the shipped example
# below runs with the default isolation
$t->function('php', "exec = php-cgi\nscript = app.php\nmax_requests = 5\n"
                    . "memory = 512M\nenv.PHP_FCGI_CHILDREN = 8\n"
                    . "isolation = none\n",
             'app.php' => $php);

# php-cgi told to retire on its own after 3 requests, the runner's
# limit far away
$t->function('selfretire', "exec = php-cgi\nscript = app.php\n"
                           . "memory = 512M\nenv.PHP_FCGI_MAX_REQUESTS = 3\n"
                           . "isolation = none\n",
             'app.php' => $php);

# the example in functions/ as shipped
my $ex = "$FaasTest::ROOT/functions/hello-php";
$t->function('hello-php', FaasTest::read_file("$ex/function.conf"),
             'index.php' => FaasTest::read_file("$ex/index.php"));

# functions that turn isolation off: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx;

my $r = $t->http_get('/fn/hello-php');
is($r->{status}, 200, 'example hello-php: 200');
like($r->{body}, qr/^Hello from PHP \d/, 'example hello-php body');

$r = $t->http_get('/fn/php?q=abc');
is($r->{status}, 200, 'php: 200');
like($r->{body}, qr/q=abc/, 'query string');
is(FaasTest::header($r, 'x-script'), 'app.php', 'SCRIPT_FILENAME is script');
like($r->{body}, qr/children=unset/, 'PHP_FCGI_CHILDREN never passed');
like($t->runner_log, qr/env\.PHP_FCGI_CHILDREN is ignored/, 'and said so');
my ($pid) = $r->{body} =~ /pid=(\d+)/;

$r = $t->http_post('/fn/php', 'name=faas',
                   headers => "Content-Type: application/x-www-form-"
                            . "urlencoded\r\n");
like($r->{body}, qr/method=POST/, 'POST');
like($r->{body}, qr/name=faas/, 'form field');
my ($pid2) = $r->{body} =~ /pid=(\d+)/;
is($pid2, $pid, 'the php-cgi worker is reused');

# max_requests = 5: retired in step; no request lost on the way
my (%pids, $bad);
for (1 .. 23) {
    my $x = $t->http_get('/fn/php');
    $bad++ unless $x->{status} == 200;
    $pids{$1}++ if $x->{body} =~ /pid=(\d+)/;
}
ok(!$bad, '23 requests across retirements, none failed');
ok(!grep({ $_ > 5 } values %pids), 'no worker served more than 5');
ok(keys(%pids) >= 5, 'retired workers were replaced');
ok(FaasTest::wait_for(sub { $t->workers('php') <= 1 }, 5),
   'at most one php-cgi worker once retired ones have exited');

# its own limit under the runner's: the runner retires it in step (a
# php-cgi that retired itself kept its listening socket open while PHP
# shut down, and the request connected then was reset unread: a POST,
# which is never sent twice, failed with 502)
my (%own, $failed);
for my $i (1 .. 12) {
    my $x = $i % 2
        ? $t->http_get('/fn/selfretire')
        : $t->http_post('/fn/selfretire', "name=n$i",
                        headers => "Content-Type: application/x-www-form-"
                                 . "urlencoded\r\n");
    $failed++ unless $x->{status} == 200
                     && ($i % 2 || $x->{body} =~ /name=n$i\n/);
    $own{$1}++ if $x->{body} =~ /pid=(\d+)/;
}
ok(!$failed, '12 requests, every other a POST, to a php-cgi whose '
   . 'PHP_FCGI_MAX_REQUESTS is 3: none failed');
ok(keys(%own) >= 4 && !grep({ $_ > 3 } values %own),
   'workers of 3 requests each: ' . keys(%own) . ' workers');
my @retired = $t->runner_log =~ /(\[\w+\]) \d+#0: worker \d+ of "selfretire" retires after 3 requests/g;
ok(@retired >= 3, scalar(@retired) . ' retired by the runner, in step');
ok(!grep({ $_ ne '[info]' } @retired), 'all at info level');
unlike($t->runner_log, qr/"selfretire".*(mid-request|while serving|before answering)/,
       'no request met a php-cgi on its way out');

$t->done;
done_testing;
