#!/usr/bin/perl

# The runner holds a FastCGI function's header block until its blank
# line: what fails within it is answered by the runner itself, clean,
# and run once. Its hostile twins (a review of the hold):
# - a bad Status line, then half a header and a hang: held on to the
#   block's end (it was let go at the bad line: nginx waited, took the
#   runner's close for a broken upstream and ran the GET again);
# - a line on stderr, then the hang: the line reaches nginx's log (it
#   was held with the response and dropped with it);
# - half a Status line ("Status: 2"), then the hang: the runner's own
#   504 is scanned from its start (it was read as the end of the
#   function's line: "an invalid status line", outcome error);
# - the runner stopped fast while a header is held: meter_log's line is
#   a shutdown's, status 502 (it said trigger=http status=200, which
#   "fcgi-runner meter" counted a second invocation).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $p = $t->prefix;
my $log = "$p/logs/faas.log";
my $mlog = "$p/logs/meter.log";

$t->function('held', "exec = @{[ $t->testfn ]}\ntimeout = 1s\n");
# the same, its timeout far from the fast stop below
$t->function('heldlong', "exec = @{[ $t->testfn ]}\ntimeout = 30s\n");
# a CGI's garbage: the runner's own 502, its status that (a subrequest's
# meter_log line said 200: the runner's Status line was not read)
$t->function('cgibad', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\necho garbage\n");
$t->start_runner(conf => "meter_log = $mlog\n");
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $log faas_meter;"));

sub runs {
    my $s = `$FaasTest::RUNNER status --listen unix:@{[ $t->socket_path ]} --format json 2>&1`;
    my $j = eval { decode_json($s) } // {};
    my ($f) = grep { $_->{name} eq 'held' } @{ $j->{functions} // [] };
    my $n = 0;
    $n += $_ for values %{ $f->{invocations} // {} };
    return $n;
}

# a bad Status line, half a header, a hang
my $r = $t->http_get('/fn/held?op=slowhead&bad=1&ms=3000');
is($r->{status}, 504, 'a bad Status line, then a hang in the header: 504');
is(FaasTest::log_line($log, 1)->{outcome}, 'error', '... outcome error (its bad status)');
is(runs(), 1, '... run once');
unlike($t->error_log, qr/prematurely closed/,
       '... nginx saw no half header');

# the same, ended: nginx answers the bad status, as before
$r = $t->http_get('/fn/held?op=slowhead&bad=1&ms=10');
is($r->{status}, 502, 'a bad Status line in a whole header: 502');
is(FaasTest::log_line($log, 2)->{outcome}, 'error', '... outcome error');
is(runs(), 2, '... run once');

# a line on stderr while the header is held
$r = $t->http_get('/fn/held?op=slowhead&err=1&ms=3000');
is($r->{status}, 504, 'stderr, then a hang in the header: 504');
ok(FaasTest::wait_for(sub { $t->error_log =~ /slowhead says why/ }, 5),
   "... what it said on stderr in nginx's log");
is(runs(), 3, '... run once');

# half a Status line, then the hang
my $mark = length $t->runner_log;
$r = $t->http_get('/fn/held?op=slowhead&two=1&ms=3000');
is($r->{status}, 504, 'half a Status line, then a hang: 504');
is(FaasTest::log_line($log, 4)->{outcome}, 'timeout', '... outcome timeout');
unlike(substr($t->runner_log, $mark), qr/invalid status line/,
       "... the runner's own answer read from its start");
is(runs(), 4, '... run once');

$r = $t->fcgi_call('cgibad', params => [ FAAS_METER => 'log' ]);
is($r->{http}{status}, 502, "a CGI's garbage: the runner's 502");
ok(FaasTest::wait_for(sub { (FaasTest::read_file($mlog) // '')
                            =~ /function=cgibad .*status=502 .*trigger=subrequest/ }, 5),
   '... its subrequest line says 502') or diag(FaasTest::read_file($mlog));

# a fast stop while a header (a Status: 201 in it) is held: nothing
# reached nginx
my $s = $t->http_start('/fn/heldlong?op=slowhead&st=1&ms=20000');
sleep 1;
$t->signal_runner('INT');
my $status = $t->wait_runner(10);
ok(defined $status, 'SIGINT with a header held: the runner stops');
$r = FaasTest::http_finish($s, timeout => 10);
is($r->{status}, 502, '... the client: 502');
my @m;
FaasTest::wait_for(sub {
    @m = grep { /function=heldlong / && !/trigger=idle/ }
         split /\n/, FaasTest::read_file($mlog) // '';
    @m }, 5);
is(scalar @m, 1, '... one meter_log line') or diag(join "\n", @m);
like($m[0] // '', qr/ status=502 .*trigger=shutdown /,
     '... a shutdown, status 502 (no invocation of its own)');

$t->done;
done_testing;
