#!/usr/bin/perl

# SIGTERM drains: requests in flight finish, then workers stop and the
# runner exits 0. SIGINT stops at once. Nothing is left behind.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $fn = FaasTest::testfn();

{
    my $t = FaasTest->new;
    $t->function('slow', "exec = $fn\nmin_instances = 1\n");
    $t->function('cgi', "exec = ./c.sh\nmode = cgi\n",
                 'c.sh' => "#!/bin/sh\nsleep 1\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\ncgi done\\n'\n");
    $t->start_runner;
    $t->start_nginx;

    ok(FaasTest::wait_for(sub { $t->workers('slow') == 1 }, 5), 'warm');
    my $s1 = $t->http_start('/fn/slow?op=sleep&ms=1500');
    my $s2 = $t->http_start('/fn/cgi');
    # both in the runner's hands before it is told to stop
    ok(FaasTest::wait_for(sub { $t->workers('cgi') == 1 }, 5),
       'the CGI request runs');

    $t->signal_runner('TERM');
    # at once: long before the request in flight (1.5 s) ends
    ok(FaasTest::wait_for(sub { !-e $t->socket_path }, 0.8),
       'SIGTERM: the socket is gone at once');

    my $r1 = FaasTest::http_finish($s1);
    my $r2 = FaasTest::http_finish($s2);
    is($r1->{status}, 200, 'FastCGI request in flight completes');
    like($r1->{body}, qr/slept/, 'with its body');
    is($r2->{status}, 200, 'CGI request in flight completes');
    like($r2->{body}, qr/cgi done/, 'with its body');

    my $status = $t->wait_runner(10);
    is($status, 0, 'runner exits 0 after draining');
    like($t->runner_log, qr/graceful shutdown/, 'said so');
    ok(!$t->leftovers, 'no worker left');
    $t->done;
}

{
    my $t = FaasTest->new;
    my $meter = $t->prefix . '/meter.log';
    $t->function('slow', "exec = $fn\n");
    $t->start_runner(conf => "meter_log = $meter\n");
    # an access log that asks for the measurements
    my $log = $t->prefix . '/logs/meter.log';
    $t->start_nginx("    log_format m 'function=\$faas_function "
                    . "tenant=\$faas_tenant status=\$status "
                    . "outcome=\$faas_status duration=\$faas_duration "
                    . "cpu=\$faas_cpu_time';\n"
                    . $t->faas_location(location => "access_log $log m;"));

    # (it burns CPU: one that sleeps may have used none the meter shows
    # by the time it is stopped)
    my $s1 = $t->http_start('/fn/slow?op=burn&ms=20000');
    ok(FaasTest::wait_for(sub { scalar $t->workers('slow') }, 5),
       'busy worker');
    sleep 0.5;
    my $t0 = time;
    $t->signal_runner('INT');
    my $status = $t->wait_runner(10);
    ok(time - $t0 < 3, 'SIGINT: stops at once');
    is($status, 0, 'exit 0');
    my $r = FaasTest::http_finish($s1);
    isnt($r->{status}, 200, 'the request in flight is cut');
    # its measurements go to meter_log (nginx got none), with the status
    # nginx gave: its client did not leave
    like(FaasTest::read_file($meter) // '',
         qr/function=slow .*status=502 .*trigger=shutdown /,
         '... what it used in meter_log: the 502 nginx answered, '
         . 'trigger=shutdown')
        or diag(FaasTest::read_file($meter) // 'no meter_log');
    # nginx's line (502, outcome error) is the invocation, meter_log's
    # what it used: one invocation, not two
    my $j = eval { JSON::PP::decode_json(scalar
        `$FaasTest::RUNNER meter --format json $log $meter`) } // {};
    is($j->{total}{invocations}, 1, 'fcgi-runner meter: one invocation')
        or diag(FaasTest::read_file($log));
    is($j->{total}{outcomes}{error}, 1, '... an error');
    cmp_ok($j->{total}{cpu_s}, '>', 0, '... with the CPU it used');
    ok(FaasTest::wait_for(sub { !$t->leftovers }, 5), 'no worker left');
    $t->done;
}

{
    # killed outright: its workers must not outlive it
    my $t = FaasTest->new;
    $t->function('warm', "exec = $fn\nmin_instances = 2\n");
    $t->function('cgi', "exec = ./c.sh\nmode = cgi\n",
                 'c.sh' => "#!/bin/sh\nexec sleep 30\n");
    $t->start_runner;

    ok(FaasTest::wait_for(sub { $t->workers('warm') == 2 }, 5),
       'two warm workers');
    my $s = $t->fcgi_connect;
    print $s FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('cgi'));
    ok(FaasTest::wait_for(sub { $t->workers('cgi') == 1 }, 5),
       'a CGI process running');
    my @w = ($t->workers('warm'), $t->workers('cgi'));

    $t->signal_runner('KILL');
    $t->wait_runner(5);
    ok(FaasTest::wait_for(sub { !grep { FaasTest::proc_alive($_) } @w }, 5),
       'SIGKILL to the runner: its workers die with it');
    close $s;
    $t->done;
}

done_testing;
