#!/usr/bin/perl

# Socket activation (systemd's LISTEN_FDS, LISTEN_PID): the runner takes
# its listening socket from descriptor 3, as it is, and leaves it (and
# its file) to whoever passed it. Connections made while no runner runs
# wait in that socket's backlog: a restart (SIGTERM, then a new runner
# on the same socket) under load loses no request, and a request in
# flight at the SIGTERM finishes. What is not for us (another process's
# LISTEN_PID) is ignored; what is wrong (not a listening socket) stops
# the start with a clear line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::UNIX;
use IO::Socket::INET;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;
my $sock = $t->socket_path;

$t->function('hello', "exec = $fn\n");
$t->function('slow', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nsleep 1\n"
                         . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                         . "slow done\\n'\n");

# the socket "systemd" holds: made here, kept here across runners
my $l = IO::Socket::UNIX->new(Local => $sock, Type => SOCK_STREAM,
                              Listen => 1024) or die "listen $sock: $!";
chmod 0666, $sock;

$t->start_runner(inherit => [$l]);
like($t->runner_log, qr/listening on "unix:\Q$sock\E \(from systemd\)"/,
     'the runner says it listens on the socket it was passed');

# stock nginx, no kept connections: each request a new connection
$t->start_nginx($t->fastcgi_location(keepalive => 0));

my $r = $t->http_get('/fn/hello');
is($r->{status}, 200, 'served through the passed socket');
like($r->{body}, qr/\S/, '... with a body');

# load from a child: sequential requests for ~4 s, statuses counted
my $load = $t->load_start('/fn/hello', 4);
sleep 0.5;
my $slow = $t->http_start('/fn/slow');
sleep 0.2;

# the restart: SIGTERM (finishes what is in flight), then a new runner
my $old = $t->runner_pid;
kill 'TERM', $old;
is($t->wait_runner(20), 0, 'the old runner exits 0 on SIGTERM');
ok(-S $sock, 'the socket file is left in place (not ours to remove)');
$t->start_runner(inherit => [$l]);
isnt($t->runner_pid, $old, 'a new runner on the same socket');

my $sr = FaasTest::http_finish($slow, timeout => 20);
is($sr && $sr->{status}, 200, 'the request in flight at SIGTERM finished');
like($sr && $sr->{body}, qr/slow done/, '... whole');

my $res = FaasTest::load_result($load);
like($res, qr/^200=\d+$/, "every request under the restart: 200 ($res)");

# what is not ours, or wrong
is($t->stop_runner, 0, 'stops');

{
    # LISTEN_PID of another process: not for us, the runner opens its own
    # listen (the configured path, here taken by our socket: moved away)
    rename $sock, "$sock.held" or die;
    $t->start_runner(inherit => [$l], listen_pid => 1);
    unlike($t->runner_log =~ s/.*listening on/listening on/sr,
           qr/from systemd/, 'another LISTEN_PID: ignored');
    ok(-S $sock, '... the runner made its own socket');
    is($t->http_get('/fn/hello')->{status}, 200, '... and serves on it');
    is($t->stop_runner, 0, '... and stops');
    ok(!-e $sock, '... removing its own socket');
    rename "$sock.held", $sock or die;
}

{
    # descriptor 3 not a listening socket: a clear refusal
    open my $f, '<', '/dev/null' or die;
    my $before = length $t->runner_log;
    my $pid = $t->start_runner(inherit => [$f], may_fail => 1);
    my $st = $t->wait_runner(10);
    is($st && $st >> 8, 1, 'fd 3 not a socket: exit 1');
    like(substr($t->runner_log, $before),
         qr/socket activation: descriptor 3 is not a listening stream socket/,
         '... saying so');

    my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock)
        or die;
    my $before2 = length $t->runner_log;
    $t->start_runner(inherit => [$c], may_fail => 1);
    $st = $t->wait_runner(10);
    is($st && $st >> 8, 1, 'a connected, not listening, socket: exit 1');
    like(substr($t->runner_log, $before2), qr/not a listening stream socket/,
         '... saying so');
}

{
    # two passed: the first used, the other closed with a warning
    my $extra = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Listen => 5) or die;
    $t->start_runner(inherit => [$l, $extra]);
    ok($t->wait_log(qr/descriptor 4 not used/), 'a second socket: warned');
    is($t->http_get('/fn/hello')->{status}, 200, 'the first serves');
    is($t->stop_runner, 0, 'stops');
}

{
    # a connection accepted just before SIGTERM, its request written
    # after: served (a client writes just after its connect), not closed
    $t->start_runner(inherit => [$l]);
    my $c = $t->fcgi_connect;
    my $silent = $t->fcgi_connect;
    sleep 0.3;
    kill 'TERM', $t->runner_pid;
    ok($t->wait_log(qr/graceful shutdown/), 'SIGTERM: draining');
    sleep 0.2;
    my $r = FaasTest::fcgi_exchange($c, FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('hello')), timeout => 10);
    like($r->{stdout}, qr/^Content-Type/m,
         'a request on a connection accepted before SIGTERM is served');
    # one that never writes holds the stop up for a moment only
    my $t0 = time;
    is($t->wait_runner(10), 0, '... and the runner exits 0');
    cmp_ok(time - $t0, '<', 5, '... a silent connection does not hold it');
    close $silent;
}

# the refusals above are emerg lines, as they should be
$t->{allow_log} = qr/socket activation: descriptor 3/;
$t->done;

done_testing;
