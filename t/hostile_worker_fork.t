#!/usr/bin/perl

# A FastCGI worker's connection is shared by whatever it forks: a child
# that returns into the request loop (PHP's pcntl_fork(), Python's
# os.fork() in a WSGI app, a C worker's fork()) answers the request
# again, later, with its records. Each request to a worker has its own
# FastCGI id, so such an answer is never taken for the next visitor's.
# Promise: the next request never gets a byte of another request's
# answer; the worker that sent a record of another request, or one when
# no request was asked, is retired with what it started (a 502 for the
# request it had, billed as a crash; one given it in the same read and
# not sent yet goes to another worker if it is a GET); the function's
# next request is served by a new
# worker; the runner stays up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $access = $t->prefix . '/logs/faas.log';

$t->function('forky', "exec = @{[ $t->testfn ]}\nmax_instances = 1\n");

# the same in the Python runtime: the child returns from the app
$t->function('pyfork', "runtime = python\napp = app:app\nmax_instances = 1\n",
             'app.py' => <<'EOF');
import os, time

def app(environ, start_response):
    q = environ.get('QUERY_STRING', '')
    if q.startswith('fork'):
        if os.fork() == 0:
            time.sleep(0.4)
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [b'stale answer from the child\n']
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [('parent %d\n' % os.getpid()).encode()]
    if q.startswith('slow'):
        environ['wsgi.input'].read()
        time.sleep(1.5)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('own answer %d\n' % os.getpid()).encode()]
EOF

$t->start_runner;
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $access faas_meter;"));

my %ask = (
    forky  => { fork => 'op=forkanswer&ms=400', slow => 'op=sleep&ms=1500',
                pid => 'op=pid' },
    pyfork => { fork => 'fork', slow => 'slow', pid => 'pid' },
);

for my $fn (qw(forky pyfork)) {
    my %q = %{ $ask{$fn} };

    # the child's answer comes while the next request runs
    my $r = $t->http_get("/fn/$fn?$q{fork}");
    is($r->{status}, 200, "$fn: the forking request: 200");
    my ($parent) = ($r->{body} // '') =~ /(?:parent pid=|parent )(\d+)/;
    ok($parent, '... answered by the worker');
    my @w = $t->workers($fn);

    # the worker had it (a GET too: it may have run): 502, never twice
    $r = $fn eq 'forky' ? $t->http_get("/fn/$fn?$q{slow}", timeout => 20)
                        : $t->http_post("/fn/$fn?$q{slow}", 'x', timeout => 20);
    unlike($r->{body} // '', qr/stale/,
           "$fn: the next request gets no byte of the child's answer");
    is($r->{status}, 502, '... a 502: its worker had it, sent another '
       . 'request\'s records') or diag($r->{raw});
    ok($t->wait_log(qr/worker \d+ of "$fn" sent a record for request 1, not 2/),
       '... the worker\'s fault said in the log');
    ok(FaasTest::wait_for(sub { !grep { $_ == $w[0] } $t->workers($fn) }, 10),
       '... the worker is gone') if $fn eq 'forky';
    $r = $t->http_get("/fn/$fn?$q{pid}");
    is($r->{status}, 200, "$fn: the next request: 200");
    unlike($r->{body}, qr/stale/, '... its own answer');

    # the child's answer comes between requests: the worker is retired
    # before anyone is given to it
    $r = $t->http_get("/fn/$fn?$q{fork}");
    ($parent) = ($r->{body} // '') =~ /(?:parent pid=|parent )(\d+)/;
    my $unasked = 'sent a record with no request asked, retiring it';
    ok($t->wait_log(qr/worker \d+ of "$fn" \Q$unasked\E/, 10),
       "$fn: a record between requests: the worker is retired");
    $r = $t->http_get("/fn/$fn?$q{pid}");
    is($r->{status}, 200, '... the next request: 200');
    unlike($r->{body}, qr/stale/, '... its own answer');
    my ($own) = $r->{body} =~ /(\d+)/;
    isnt($own, $parent, '... from another worker') if $fn eq 'forky';
}

my $log = FaasTest::read_file($access) // '';
unlike($log, qr/status=200 .*stale/, 'no line of a stale answer');
like($log, qr/function=forky .*status=502 outcome=crashed /,
     'the request whose worker broke: billed, outcome crashed (as any '
     . 'worker that answered garbage)');

$t->done;
done_testing;
