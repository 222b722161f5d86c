#!/usr/bin/perl

# The FastCGI side of the runner, driven by a raw client for what nginx
# never sends: records split at every offset, odd padding, malformed and
# oversized records, unknown types and roles, multiplexing, aborts,
# clients that vanish mid-request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params fcgi_request_bytes);
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('echo', "exec = $fn\nmax_instances = 2\n");
$t->start_runner;

# descriptors at rest, one worker up: what they must come back to
$t->fcgi_call('echo');
my $fds0 = $t->runner_fds - 2 * $t->workers('echo');

sub params { FaasTest::fcgi_default_params(@_) }

sub send_all {
    my ($s, $bytes) = @_;
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($s, $bytes, length($bytes) - $off, $off);
        die "write: $!" unless defined $n;
        $off += $n;
    }
}

# one kept connection; the request split at every byte offset
my $body = join '', map { chr(($_ * 7) % 256) } 0 .. 300;
my $req = fcgi_request_bytes(
    params => params('echo', QUERY_STRING => 'op=echo',
                     REQUEST_METHOD => 'POST',
                     CONTENT_LENGTH => length $body),
    stdin => $body);

my $s = $t->fcgi_connect;
my $ok = 0;
for my $k (1 .. length($req) - 1) {
    send_all($s, substr($req, 0, $k));
    sleep 0.002;
    my $r = FaasTest::fcgi_exchange($s, substr($req, $k));
    $ok++ if $r->{ended} && $r->{http}{body} eq $body
             && $r->{protocol_status} == 0;
}
is($ok, length($req) - 1, 'request split at each of ' . (length($req) - 1)
   . ' offsets: body echoed byte-exact every time');

# byte by byte
my $r = FaasTest::fcgi_exchange($s, $req, split => 1);
is($r->{http}{body}, $body, 'request sent one byte at a time');
close $s;

# padding other than the usual
{
    my $p = fcgi_params(@{ params('echo') });
    my $b = fcgi_record(1, 1, pack('nCx5', 1, 0), 200)
          . fcgi_record(4, 1, $p, 255) . fcgi_record(4, 1, '', 3)
          . fcgi_record(5, 1, 'abc', 0) . fcgi_record(5, 1, '', 7);
    $s = $t->fcgi_connect;
    $r = FaasTest::fcgi_exchange($s, $b);
    is($r->{http}{status}, 200, 'odd padding accepted');
    ok($r->{eof} || $r->{ended}, 'request ended');
    close $s;
}

# keep_conn off: closed after END_REQUEST
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo'),
                                                    keep => 0));
is($r->{protocol_status}, 0, 'REQUEST_COMPLETE');
$r = FaasTest::fcgi_read($s, timeout => 5);
ok($r->{eof}, 'connection closed after END_REQUEST without KEEP_CONN');
close $s;

# not FastCGI: version 2
$s = $t->fcgi_connect;
send_all($s, "\2\1\0\1\0\10\0\0" . ("\0" x 8));
$r = FaasTest::fcgi_read($s, timeout => 5);
ok($r->{eof}, 'wrong version: connection closed');
close $s;
ok($t->wait_log(qr/FastCGI version 2/), 'and logged');

# HTTP sent to the FastCGI socket
$s = $t->fcgi_connect;
send_all($s, "GET / HTTP/1.0\r\n\r\n");
$r = FaasTest::fcgi_read($s, timeout => 5);
ok($r->{eof}, 'HTTP to the FastCGI socket: closed');
close $s;

# BEGIN_REQUEST of a wrong size
$s = $t->fcgi_connect;
send_all($s, fcgi_record(1, 1, pack('nCx3', 1, 1)));
$r = FaasTest::fcgi_read($s, timeout => 5);
ok($r->{eof}, 'short BEGIN_REQUEST: closed');
close $s;

# unknown management record: FCGI_UNKNOWN_TYPE
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_exchange($s, fcgi_record(99, 0, 'xyz'),
                             until_type => 11, until_end => 0, timeout => 5);
my ($u) = grep { $_->[0] == 11 } @{ $r->{records} };
ok($u && ord($u->[2]) == 99, 'UNKNOWN_TYPE names type 99');

# an unknown application record inside a request is ignored
$r = FaasTest::fcgi_exchange($s,
    fcgi_record(1, 1, pack('nCx5', 1, 1))
    . fcgi_record(4, 1, fcgi_params(@{ params('echo') }))
    . fcgi_record(4, 1, '') . fcgi_record(42, 1, 'junk')
    . fcgi_record(8, 1, 'data') . fcgi_record(5, 1, ''));
is($r->{http}{status}, 200, 'unknown application records skipped');

# roles other than responder
$r = FaasTest::fcgi_exchange($s, fcgi_record(1, 3, pack('nCx5', 2, 1)));
is($r->{protocol_status}, 3, 'AUTHORIZER role: FCGI_UNKNOWN_ROLE');
is($r->{end_id}, 3, 'for its request id');
{
    # without FCGI_KEEP_CONN: the answer, then the connection's end (it
    # stayed open till the client gave up)
    my $o = $t->fcgi_connect;
    my $x = FaasTest::fcgi_exchange($o, fcgi_record(1, 1, pack('nCx5', 3, 0)),
                                    timeout => 5);
    is($x->{protocol_status}, 3, 'FILTER role, flags 0: FCGI_UNKNOWN_ROLE');
    my $e = FaasTest::fcgi_read($o, timeout => 5);
    ok($e->{eof}, '... and the connection closed');
    close $o;
}

# a second request while one runs: FCGI_CANT_MPX_CONN
send_all($s, fcgi_request_bytes(id => 1,
    params => params('echo', QUERY_STRING => 'op=sleep&ms=300')));
$r = FaasTest::fcgi_exchange($s, fcgi_record(1, 2, pack('nCx5', 1, 1)));
is($r->{end_id}, 2, 'second request refused first');
is($r->{protocol_status}, 1, 'with FCGI_CANT_MPX_CONN');
$r = FaasTest::fcgi_read($s);
is($r->{end_id}, 1, 'the first request completes');
like($r->{stdout}, qr/slept/, 'with its response');
close $s;

# the same while the response is held (half its header came): the
# refusal and the answers to management records go at once (they were
# held with it, the client waited for the function's blank line)
$s = $t->fcgi_connect;
send_all($s, fcgi_request_bytes(id => 1, params => params('echo',
    QUERY_STRING => 'op=slowhead&ms=8000')));
sleep 0.5;
$r = FaasTest::fcgi_exchange($s, fcgi_record(1, 2, pack('nCx5', 1, 1)),
                             timeout => 2);
is($r->{end_id}, 2, 'a response held: the second request refused at once');
is($r->{protocol_status}, 1, '... FCGI_CANT_MPX_CONN');
is($r->{stdout}, '', '... nothing of the held response with it');
$r = FaasTest::fcgi_exchange($s, fcgi_record(9, 0,
        FaasTest::fcgi_params(FCGI_MPXS_CONNS => '')),
        until_type => 10, until_end => 0, timeout => 2);
ok((grep { $_->[0] == 10 } @{ $r->{records} }), '... GET_VALUES answered');
$r = FaasTest::fcgi_exchange($s, fcgi_record(42, 0, ''),
        until_type => 11, until_end => 0, timeout => 2);
ok((grep { $_->[0] == 11 } @{ $r->{records} }), '... UNKNOWN_TYPE too');
close $s;

# oversized parameters: an answer, not a crash
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(
    params => params('echo', BIG => 'x' x 300000)));
is($r->{http}{status}, 431, 'parameters over 256 KiB: 431');
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo')));
is($r->{http}{status}, 200, 'the connection goes on');
close $s;

# malformed name-value pairs: length beyond the record, alone or after a
# valid function name; nothing of it reaches a worker
for my $prefix ('', FaasTest::fcgi_params(FAAS_FUNCTION => 'echo')) {
    $s = $t->fcgi_connect;
    $r = FaasTest::fcgi_exchange($s, fcgi_record(1, 1, pack('nCx5', 1, 1))
        . fcgi_record(4, 1, $prefix . "\x7f\x7fshort") . fcgi_record(4, 1, '')
        . fcgi_record(5, 1, ''), timeout => 5);
    is($r->{http}{status}, 400, 'garbled parameters: 400'
       . ($prefix ? ', even after a valid FAAS_FUNCTION' : ''));
    close $s;
}
like($t->runner_log, qr/client sent malformed parameters/, 'logged');

# STDIN after the end of STDIN: a protocol error, the request is void
# and nothing of the extra bytes reaches the worker
$s = $t->fcgi_connect;
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(
        params => params('echo', QUERY_STRING => 'op=echo',
                         REQUEST_METHOD => 'POST', CONTENT_LENGTH => 4),
        stdin => 'body') . fcgi_record(5, 1, 'smuggled'), timeout => 5);
is($r->{http}{status}, 400, 'STDIN after its end: 400');
unlike($r->{stdout}, qr/smuggled/, 'the extra bytes reach no worker');
like($t->runner_log, qr/client sent STDIN after the end of STDIN/, 'logged');
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo')));
is($r->{http}{status}, 200, 'the connection goes on');
close $s;

# ABORT_REQUEST: answered at once; the invocation runs to its end on its
# worker, which is kept
$s = $t->fcgi_connect;
send_all($s, fcgi_request_bytes(
    params => params('echo', QUERY_STRING => 'op=sleep&ms=1500')));
ok(FaasTest::wait_for(sub { scalar $t->workers('echo') }, 5),
   'worker busy');
my @busy = $t->workers('echo');
sleep 0.2;
$r = FaasTest::fcgi_exchange($s, fcgi_record(2, 1, ''), timeout => 5);
ok($r->{ended}, 'END_REQUEST after ABORT_REQUEST');
is($r->{end_id}, 1, 'for the aborted request');
$r = FaasTest::fcgi_exchange($s, fcgi_request_bytes(params => params('echo')));
is($r->{http}{status}, 200, 'same connection serves the next request');
close $s;
ok($t->wait_log(qr/"echo": the invocation its client left ended \(ok\)/),
   'the aborted invocation ran to its end');
ok(@busy && !(grep { !FaasTest::proc_alive($_) } @busy),
   'its worker is kept');

# a client that disconnects mid-body
$s = $t->fcgi_connect;
send_all($s, fcgi_request_bytes(
    params => params('echo', QUERY_STRING => 'op=echo',
                     CONTENT_LENGTH => 1000000), no_stdin => 1)
    . fcgi_record(5, 1, 'x' x 1000));
ok(FaasTest::wait_for(sub { scalar $t->workers('echo') }, 5), 'worker took it');
close $s;
# (a body cut short is no request to finish)
ok($t->wait_log(qr/stopping worker (\d+) of "echo": its client went away/),
   'disconnect mid-body: its worker is stopped');
my ($cut) = $t->runner_log =~ /stopping worker (\d+) of "echo": its client/;
ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($cut) }, 5),
   '... and gone');

# a client that disconnects while the function runs: it runs to its end
$s = $t->fcgi_connect;
send_all($s, fcgi_request_bytes(
    params => params('echo', QUERY_STRING => 'op=sleep&ms=1500')));
sleep 0.3;
my @before = $t->workers('echo');
close $s;
ok(@before, 'a worker runs the slow request');
ok(FaasTest::wait_for(sub {
       (() = $t->runner_log =~ /the invocation its client left ended/g) == 2
   }, 10), 'the invocation of a vanished client runs to its end');
ok(!(grep { !FaasTest::proc_alive($_) } @before), 'its worker is kept');

# after all that, the runner still serves
$r = $t->fcgi_call('echo', params => [ QUERY_STRING => 'op=pid' ]);
is($r->{http}{status}, 200, 'runner alive and well');
ok(FaasTest::proc_alive($t->runner_pid), 'runner process alive');

# a live worker holds two descriptors, its connection and its stderr
# (nothing here is metered); everything else must be back to where it was
ok(FaasTest::wait_for(sub {
       $t->runner_fds - 2 * $t->workers('echo') <= $fds0
   }, 5), 'no descriptor leaked by all of the above ('
   . ($t->runner_fds) . " open, $fds0 at rest)");

$t->done;
done_testing;
