#!/usr/bin/perl

# SIGHUP re-reads the functions folder: added, changed and removed
# functions, a bad change keeps the old one, nothing in flight dropped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('stay', "exec = $fn\nenv.VERSION = 1\n");
$t->function('gone', "exec = $fn\n");
$t->start_runner;
$t->start_nginx;

sub version { ($_[0]{body} =~ /ENV VERSION=(\d+)/)[0] // '' }

is(version($t->http_get('/fn/stay?op=env')), 1, 'version 1');
is($t->http_get('/fn/gone')->{status}, 200, 'gone is there');
is($t->http_get('/fn/new')->{status}, 404, 'new is not yet');
my ($old) = $t->workers('stay');

# a slow request of "stay" in flight across the reload
my $s = $t->http_start('/fn/stay?op=sleep&ms=1500');
sleep 0.3;

$t->function('stay', "exec = $fn\nenv.VERSION = 2\n");
$t->function('new', "exec = $fn\n");
$t->remove_function('gone');
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "stay" changed/), 'change noticed');
ok($t->wait_log(qr/function "gone" removed/), 'removal noticed');

is(version($t->http_get('/fn/stay?op=env')), 2, 'new settings at once');
is($t->http_get('/fn/new')->{status}, 200, 'added function answers');
is($t->http_get('/fn/gone')->{status}, 404, 'removed function is 404');

my $r = FaasTest::http_finish($s);
is($r->{status}, 200, 'request in flight during the reload completes');
like($r->{body}, qr/slept/, 'with its answer');
ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($old) }, 5),
   'the old worker is replaced once idle');

# a broken change keeps what works
$t->function('stay', "exec = $fn\nmax_instances = lots\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/"stay" keeps its previous configuration/),
   'bad change reported');
like($t->runner_log, qr/invalid value "lots" of "max_instances" in .*stay\/function.conf:2/,
     'with file and line');
is(version($t->http_get('/fn/stay?op=env')), 2, 'the last good one serves');

# an unchanged folder does not restart anything
my ($w) = $t->workers('new');
$t->signal_runner('HUP');
sleep 0.3;
$t->http_get('/fn/new');
is(($t->workers('new'))[0], $w, 'unchanged function keeps its worker');

# a change of mode: what is in flight finishes in the mode it began
my $cgi = "#!/bin/sh\nsleep 1\nprintf 'Content-Type: text/plain\\r\\n\\r\\n"
        . "cgi answer\\n'\n";
$t->function('modal', "exec = $fn\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "modal" loaded/), 'a new function');
is($t->http_get('/fn/modal')->{status}, 200, 'in FastCGI mode');
$s = $t->http_start('/fn/modal?op=sleep&ms=1500');
sleep 0.3;
$t->function('modal', "exec = ./c.sh\nmode = cgi\n", 'c.sh' => $cgi);
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "modal" changed/), 'changed to cgi mode');
$r = FaasTest::http_finish($s);
is($r->{status}, 200, 'FastCGI request in flight across fastcgi -> cgi');
like($r->{body}, qr/slept/, 'with its FastCGI answer');
is($t->http_get('/fn/modal')->{body}, "cgi answer\n", 'then CGI answers');

# a body still streaming to a FastCGI worker when its function becomes cgi
$t->function('streamy', "exec = $fn\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "streamy" loaded/), 'another FastCGI function');
my $c = $t->fcgi_connect;
my $req = FaasTest::fcgi_request_bytes(
    params => FaasTest::fcgi_default_params('streamy',
        QUERY_STRING => 'op=echo', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => 10), no_stdin => 1);
syswrite($c, $req . FaasTest::fcgi_record(5, 1, 'first'));
sleep 0.3;
$t->function('streamy', "exec = ./c.sh\nmode = cgi\n", 'c.sh' => $cgi);
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "streamy" changed/), 'changed under the body');
my $x = FaasTest::fcgi_exchange($c, FaasTest::fcgi_record(5, 1, 'later')
                                    . FaasTest::fcgi_record(5, 1, ''),
                                timeout => 10);
ok($x->{ended}, 'the request ends');
like($x->{stdout}, qr/\r\n\r\nfirstlater$/, 'the whole body reached the '
     . 'FastCGI worker, framed as FastCGI');

$s = $t->http_start('/fn/modal');
sleep 0.3;
$t->function('modal', "exec = $fn\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "modal" changed.*function "modal" changed/s),
   'changed back to fastcgi mode');
$r = FaasTest::http_finish($s);
is($r->{status}, 200, 'CGI request in flight across cgi -> fastcgi');
is($r->{body}, "cgi answer\n", 'with its CGI answer');
like($t->http_get('/fn/modal')->{body}, qr/pid=\d+/, 'then FastCGI answers');

# removed while a request waits for its one worker: the request in
# flight ends on it; the one waiting is a 404 (no worker of a removed
# function starts again: its folder may be another's by then)
$t->function('single', "exec = $fn\nmax_instances = 1\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "single" loaded/), 'a function of one worker');
my $busy = $t->http_start('/fn/single?op=sleep&ms=2000');
ok(FaasTest::wait_for(sub { $t->workers('single') == 1 }, 10), '... busy');
sleep 0.3;
my $waiting = $t->http_start('/fn/single?op=pid');
sleep 0.3;
$t->remove_function('single');
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "single" removed: 1 request\(s\) that waited for it answered 404/),
   'removed: the waiting request answered');
is(FaasTest::http_finish($waiting)->{status}, 404, '... 404');
$r = FaasTest::http_finish($busy);
is($r->{status}, 200, 'the one in flight ends on its worker');
like($r->{body}, qr/slept/, '... whole');

$t->done;
done_testing;
