#!/usr/bin/perl

# SIGUSR1 reopens the runner's log files by their names, as nginx does,
# so that logrotate's "create" loses nothing: meter_log (billing lines
# of async runs) and the runner's own log when stderr is a file. After
# a rename and SIGUSR1, a new invocation lands in a new file and none
# in the renamed one; the runner keeps serving.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $meter = $t->prefix . '/logs/meter.log';
my $runner_log = $t->prefix . '/logs/runner.log';

$t->function('rec', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

$t->start_runner(conf => "meter_log = $meter\n");

sub invoke {
    my $r = $t->fcgi_call('rec', params => [FAAS_INVOCATION => 'async',
                                            REQUEST_METHOD => 'POST']);
    my ($id) = $r->{stdout} =~ /"id": "([0-9a-f]{32})"/;
    return $id // 'none';
}

my $id1 = invoke();
ok(FaasTest::wait_for(sub { FaasTest::read_file($meter) =~ /id=$id1/ }, 10),
   'the first run is metered in meter_log');

# logrotate: rename, then SIGUSR1 (its postrotate)
rename $meter, "$meter.1" or die "rename: $!";
rename $runner_log, "$runner_log.1" or die "rename: $!";
$t->signal_runner('USR1');

ok(FaasTest::wait_for(sub { FaasTest::read_file($runner_log)
                                =~ /\[notice\] \d+#0: logs reopened/ }, 10),
   'the runner log: a new file, with the reopening in it');
ok(-f $meter, 'meter_log: a new file');

my $id2 = invoke();
ok(FaasTest::wait_for(sub { FaasTest::read_file($meter) =~ /id=$id2/ }, 10),
   'the next run lands in the new meter_log');
unlike(FaasTest::read_file("$meter.1"), qr/id=$id2/, '... not in the old');
like(FaasTest::read_file("$meter.1"), qr/id=$id1/,
     '... which keeps what it had');
like(FaasTest::read_file($runner_log), qr/invocation $id2 of "rec": 200/,
     'the runner logs into its new file');
unlike(FaasTest::read_file("$runner_log.1"), qr/$id2/, '... not the old one');

is(sprintf('%o', (stat $meter)[2] & 07777), '640', 'meter_log: mode 0640');

$t->done;

done_testing;
