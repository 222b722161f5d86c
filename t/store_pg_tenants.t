#!/usr/bin/perl

# Two hosts on one PostgreSQL store that serve other customers under
# one function name (host a: alice's "report", one at a time; host b:
# mallory's "report"). The shared store keys invocations by function
# name: host b claimed the asynchronous runs alice's host accepted and
# failed them for good ("its function is another tenant's", hostile
# pass: 16 of 20).
# Promise: a runner whose function of that name is another tenant's
# hands such an invocation back, not an attempt; alice's host runs it;
# mallory's code never sees it; none fails.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();

my (%t, %dir);
for my $c (['a', 'alice', "max_instances = 1\n"], ['b', 'mallory', '']) {
    my ($name, $tenant, $more) = @$c;
    my $t = $t{$name} = FaasTest->new;
    $dir{$name} = $t->function('report', "exec = ./run.sh\nmode = cgi\n"
        . "tenant = $tenant\n$more", 'run.sh' => <<"EOF");
#!/bin/sh
echo "\$FAAS_INVOCATION_ID \$FAAS_TRIGGER $name" >> out/log
sleep 0.2
printf 'Content-Type: text/plain\\r\\n\\r\\n$tenant\\n'
EOF
    mkdir "$dir{$name}/out";
    chmod 0777, "$dir{$name}/out";
    next if $name eq 'b';
    # alice's other functions, nothing queued: their room is not the
    # one with a backlog's (tenant.alice.max_instances bounds all)
    $t->ok_function("idle$_", "tenant = alice\n") for 1 .. 9;
    $t->ok_function('zbusy', "tenant = alice\n");
}
$t{a}->start_runner(conf => "store = $uri\ntenant.alice.max_instances = 2\n");
$t{b}->start_runner(conf => "store = $uri\n");

for my $name (qw(a b)) {
    ok($t{$name}->wait_log(qr/in PostgreSQL, as runner "/, 15),
       "runner $name on the store");
}

sub runs {
    my ($name) = @_;
    return grep { length }
           split /\n/, FaasTest::read_file("$dir{$name}/out/log") // '';
}

sub count {
    my ($where) = @_;
    my ($n) = $db->psql("SELECT count(*) FROM faas.invocations WHERE "
                        . "function = 'report' AND $where") =~ /(\d+)/;
    return $n // -1;
}

# 20 accepted by alice's host: it runs one at a time, b is free
my $accepted = 0;
for my $i (1 .. 20) {
    my $r = $t{a}->fcgi_call('report', timeout => 20, params => [
        FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => 2, CONTENT_TYPE => 'text/plain' ], stdin => "$i\n");
    $accepted++ if ($r->{http}{status} // 0) == 202;
}
is($accepted, 20, 'alice\'s host accepts 20 asynchronous runs');
ok(FaasTest::wait_for(sub { count('state < 2') == 0 }, 60),
   'all of them ended');
is(count('state = 3'), 0, 'none failed for being another tenant\'s')
    or diag($t{b}->runner_log);
is(count('state = 2'), 20, 'all 20 succeeded');
is(scalar(runs('b')), 0, 'mallory\'s "report" never ran one of them');
is(scalar(runs('a')), 20, 'alice\'s host ran them');
is(count('attempts > 1'), 0, 'each in one attempt (handing back is none)');
# alice's other function with a backlog, behind nine with none: each
# look gave the tenant's room (2) to the first ones in the list
my $zb = 0;
for my $i (1 .. 8) {
    my $r = $t{a}->fcgi_call('zbusy', timeout => 20, params => [
        FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => 0 ]);
    $zb++ if ($r->{http}{status} // 0) == 202;
}
is($zb, 8, 'alice: 8 of "zbusy" accepted, nine idle functions beside it');
ok(FaasTest::wait_for(sub {
       my ($n) = $db->psql("SELECT count(*) FROM faas.invocations WHERE "
                           . "function = 'zbusy' AND state = 2") =~ /(\d+)/;
       ($n // 0) == 8 }, 10), '... all run at once');

my $back = () = $t{b}->runner_log =~ /is tenant "alice"'s, not of this runner's function: handed back/g;
cmp_ok($back, '>=', 1, "mallory's host claimed $back and handed them back");
cmp_ok($back, '<=', 20, '... each once at most');

$t{$_}->done for qw(a b);
$db->done;
done_testing;
