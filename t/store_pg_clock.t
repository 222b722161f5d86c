#!/usr/bin/perl

# Two runners on one PostgreSQL store (started by the test with initdb
# and pg_ctl in its prefix). Runner A starts with its wall clock an hour
# ahead (build/t/fakeclock.so shifts its CLOCK_REALTIME alone; the
# machine's clock is never touched), then has it set right, as NTP does
# at boot; B's is right. What A accepts while its function is busy is
# taken by B at once: the fleet's runners keep the database's clock for
# the times they store (created, next_at, leases). A stamped it an hour
# late, by the clock it started with, and no other runner took it for
# that hour (a hostile review).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my $shim = "$FaasTest::BUILD/t/fakeclock.so";
FaasTest::need(-f $shim, "$shim (make builds it)");

my ($db, $uri) = FaasTest::postgres();
my %t;

for my $name (qw(a b)) {
    my $t = $t{$name} = FaasTest->new;
    my $dir = $t->function('rec', "exec = ./run.sh\nmode = cgi\n"
                           . "max_instances = 1\n", 'run.sh' => <<"EOF");
#!/bin/sh
body=\$(cat)
i=0
while [ "\$body" = block ] && [ ! -e out/gate ] && [ \$i -lt 300 ]; do
    sleep 0.1; i=\$((i + 1))
done
echo "\$FAAS_INVOCATION_ID \$body" >> out/log
printf 'Content-Type: text/plain\\r\\n\\r\\nran on $name\\n'
EOF
    mkdir "$dir/out";
    chmod 0777, "$dir/out";
    $t->{dir} = $dir;
}

my $off = $t{a}->prefix . '/clock-offset';
FaasTest::write_file($off, "3600\n");
$t{a}->start_runner(conf => "store = $uri\n", env => {
    LD_PRELOAD => $shim, FAKECLOCK_FILE => $off,
    ASAN_OPTIONS => ($FaasTest::SANITIZER_ENV{ASAN_OPTIONS} // '')
                    . ':verify_asan_link_order=0' });
ok($t{a}->wait_log(qr/the clock of the PostgreSQL store is -3[56]\d\d\d\d\d ms from this runner's \(its wall clock at its start\): the times it keeps in the store are the store's/),
   'A, an hour ahead: the store\'s clock taken, said')
    or diag($t{a}->runner_log);
FaasTest::write_file($off, "0\n");
$t{b}->start_runner(conf => "store = $uri\n");

sub submit { my ($t, $body) = @_; return $t->fcgi_async('rec', $body) }

# A's function busy with one that waits for the gate
my ($st, $id) = submit($t{a}, 'block');
is($st, 202, 'A accepts one that holds its function');
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT claimed_by IS NOT NULL FROM faas.invocations "
              . "WHERE id = '" . ($id // '') . "'") =~ /^t$/m }, 10),
   '... and runs it');
($st, $id) = submit($t{a}, 'via-a');
is($st, 202, 'A accepts another, its function busy');
ok(FaasTest::wait_for(sub {
       (FaasTest::read_file("$t{b}{dir}/out/log") // '') =~ /\Q$id\E via-a/ },
   10), '... which B runs at once (its times are the store\'s)')
    or diag($db->psql("SELECT id, state, created, next_at FROM "
                      . "faas.invocations"));
my $created = $db->psql("SELECT created FROM faas.invocations WHERE id = "
                        . "'$id'");
$created =~ s/\s//g;
my $dbnow = $db->psql("SELECT (extract(epoch FROM clock_timestamp()) "
                      . "* 1000000)::bigint");
$dbnow =~ s/\s//g;
ok($created =~ /^\d+$/ && abs($dbnow - $created) < 60_000_000,
   "... made at the store's time, not an hour off ($created, now $dbnow)");

FaasTest::write_file("$t{a}{dir}/out/gate", '');
$t{$_}->done for qw(a b);

done_testing;
