#!/usr/bin/perl

# SIGHUP re-reads the runner config too, as nginx does: a new folder in
# "functions", a changed default of every function, a tenant's limits
# apply without a restart (and without a function reconfigured); what cannot change live ("listen",
# "state_dir") is logged as needing a restart and stays; a config with
# an error changes nothing. Nothing in flight is dropped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use File::Path qw(make_path);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;

$t->function('one', "exec = $fn\ntenant = acme\n");
make_path("$p/more/two");
chmod 0755, "$p/more", "$p/more/two";
FaasTest::write_file("$p/more/two/function.conf", "exec = $fn\n");

sub conf {
    my ($extra) = @_;
    FaasTest::write_file("$p/runner.conf", $t->runner_conf_text($extra));
}

$t->start_runner(conf => "env.GREETING = hello\n"
                         . "tenant.acme.max_instances = 3\n");
$t->start_nginx($t->faas_location(extra => 'location = /faas/status { '
                                   . 'faas_status; faas_pass runner; }'));

sub greeting { ($t->http_get("/fn/$_[0]?op=env")->{body}
                =~ /^ENV GREETING=(\S+)/m)[0] // '' }

sub acme {
    my $s = decode_json($t->http_get('/faas/status')->{body});
    return (grep { $_->{name} eq 'acme' } @{ $s->{tenants} })[0];
}

is(greeting('one'), 'hello', 'a default of the runner config');
is($t->http_get('/fn/two')->{status}, 404, 'two is in no folder yet');
is(acme()->{limits}{max_instances}, 3, 'tenant acme: 3 workers');

my $s = $t->http_start('/fn/one?op=sleep&ms=1500');

my $second = "functions = " . $t->functions_dir . " $p/more\n"
     . "env.GREETING = bonjour\ntenant.acme.max_instances = 5\n"
     . "listen = unix:$p/other.sock\n"
     # the default, said: no change
     . "store = sqlite\n"
     . "dynamic_users = 64100-64163\n";
conf($second);
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "two" loaded/),
   'a folder added to "functions": read on SIGHUP');
ok($t->wait_log(qr/function "one" changed/),
   'a changed default: every function reconfigured');
like($t->runner_log, qr/"listen" changed: it takes a restart/,
     'listen: needs a restart, said');
like($t->runner_log, qr/"dynamic_users" changed: it takes a restart/,
     'dynamic_users: said by its name');
unlike($t->runner_log, qr/"(store|dynamic_first|dynamic_last)" changed/,
       '... no other name; store = sqlite is no change');

my $r = FaasTest::http_finish($s, timeout => 10);
is($r->{status}, 200, 'the request in flight finished');
is($t->http_get('/fn/two')->{status}, 200, 'two is served');
is(greeting('one'), 'bonjour', 'the new default applies');
is(acme()->{limits}{max_instances}, 5, "the tenant's new limit applies");
ok(!-e "$p/other.sock", 'the socket stays where it was');

# a broken config: nothing changes
conf("functions = " . $t->functions_dir . "\nno such line\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/runner\.conf" not reloaded: the running configuration stays/),
   'a config with an error is not taken');
is($t->http_get('/fn/two')->{status}, 200, '... two is still served');
is(greeting('one'), 'bonjour', '... with the same defaults');
my $refused = () = $t->runner_log =~ /runner\.conf" not reloaded/g;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub {
       (() = $t->runner_log =~ /runner\.conf" not reloaded/g) > $refused
   }, 10), '... tried again at the next SIGHUP, and said again');

# a store the next start would refuse: said at the reload, not then
my $mark = length $t->runner_log;
conf("functions = " . $t->functions_dir . " $p/more\n"
     . "env.GREETING = hola\nstore = mysql://x\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /runner\.conf" not reloaded/ }, 10),
   'store = mysql://x: not reloaded');
like(substr($t->runner_log, $mark), qr/store: not a store this build knows/,
     '... saying why');
is(greeting('one'), 'bonjour', '... the running configuration stays');

# tenants' limits only, and comments: no function is reconfigured, the
# warm workers stay (a tenant's bound changed replaced every worker of
# the host, what they held gone); compared with the running config, not
# with the broken ones read since
my @warm = $t->workers('one');
ok(scalar @warm, "one's warm worker: @warm");
(my $limits = $second) =~ s/max_instances = 5/max_instances = 2/;
$mark = length $t->runner_log;
# a comment after a vertical tab, a form feed alone: what the parser
# skips the comparison skips (it took them as a change of defaults)
conf("# the tenants' limits\n${limits}tenant_max_memory = 2G # more\n"
     . "\x0b# after a vertical tab\n\x0c\n \x0b\r\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { acme()->{limits}{max_instances} == 2 }, 10),
   "a tenant's limit changed: it applies");
unlike(substr($t->runner_log, $mark), qr/function "\w+" changed/,
       '... no function reconfigured');
is(greeting('one'), 'bonjour', '... the same defaults');
is_deeply([$t->workers('one')], \@warm, '... the same worker');

# the runner's own keys, read where they are used (or taking a
# restart): no function reconfigured either (max_connections changed
# made every function cold; a stranger's pass)
$mark = length $t->runner_log;
conf("${limits}tenant_max_memory = 2G
max_connections = 100
"
     . "client_header_timeout = 7s
async_retries = 2
"
     . "prototype_idle_timeout = 3m
meter_idle_interval = 20s
"
     . "spool_max = 2M
max_workers = 200
");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub {
       decode_json($t->http_get('/faas/status')->{body})
           ->{runner}{workers}{limit} == 200 }, 10),
   'runner keys changed: they apply (max_workers 200)');
unlike(substr($t->runner_log, $mark), qr/function "\w+" changed/,
       '... no function reconfigured');
is_deeply([$t->workers('one')], \@warm, '... the same worker, warm');

# a function's default changed beside it: every function is
(my $salut = $limits) =~ s/bonjour/salut/;
$mark = length $t->runner_log;
conf("${salut}tenant_max_memory = 2G\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                            =~ /function "one" changed/ }, 10),
   'a default changed: the functions are reconfigured');
is(greeting('one'), 'salut', '... the new default applies');

# a tenant's limit raised: what waited for room starts now, not when a
# worker of its tenant is done (no function is reconfigured to start it)
(my $one = $salut) =~ s/max_instances = 2/max_instances = 1/;
conf($one);
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { acme()->{limits}{max_instances} == 1 }, 10),
   'acme: 1 worker');
my $t0 = time;
my $long = $t->http_start('/fn/one?op=sleep&ms=5000');
sleep 0.5;
my $queued = $t->http_start('/fn/one?op=env');
ok(FaasTest::wait_for(sub { (acme()->{queue}{length} // 0) == 1 }, 10),
   '... a request waits for room');
conf($salut);
$t->signal_runner('HUP');
my $r2 = FaasTest::http_finish($queued, timeout => 20);
my $waited = time - $t0;
my $r1 = FaasTest::http_finish($long, timeout => 20);
is($r2->{status}, 200, 'limit raised to 2: the waiting request is served');
cmp_ok($waited, '<', 4.5, '... before the one in its way (5 s) ended');
is($r1->{status}, 200, '... which ends as it would');

# a tenant's max_memory lowered under a function's memory: said
$mark = length $t->runner_log;
conf("${salut}tenant.acme.max_memory = 1M\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
    =~ m{/one/function\.conf: memory \d+K is over the max_memory of its tenant "acme" \(1024K\): no worker of it starts} }, 10),
   'max_memory lowered under a function\'s memory: said');

# a limit of a few bytes is said in bytes, not as "(0K)"; a NUL byte in
# a line is said as one (it was "line too long"), in the runner's config
# and in a function's, and refuses the file
my $bin = $t->runner_bin_name;
FaasTest::write_file("$p/tiny.conf",
                     $t->runner_conf_text("tenant.acme.max_memory = 1000\n"));
my $out = `$bin --config $p/tiny.conf --test 2>&1`;
like($out, qr{memory \d+K is over the max_memory of its tenant "acme" \(1000 bytes\)},
     'a max_memory of 1000 bytes: said in bytes');
FaasTest::write_file("$p/nul.conf",
                     $t->runner_conf_text("env.A = a\0b\nenv.B = c\n"));
$out = `$bin --config $p/nul.conf --test 2>&1`;
isnt($? >> 8, 0, 'a NUL byte in the runner config: --test fails');
like($out, qr{a NUL byte in \S*nul\.conf:\d+}, '... saying so');
unlike($out, qr/line too long/, '... not as a line too long');
$t->function('nulfn', "exec = $fn\0\nmemory = 64M\n");
$mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
    =~ m{a NUL byte in \S*/nulfn/function\.conf:1} }, 10),
   "a NUL byte in a function.conf: said") or diag(substr($t->runner_log, $mark));
is($t->http_get('/fn/nulfn')->{status}, 404, '... the function not loaded');

# a tenant's limits under a name no function has (a typo): said
$mark = length $t->runner_log;
conf("${salut}tenant.acmee.max_instances = 1\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
    =~ /tenant\.acmee\.\* names a tenant no function is of/ }, 10),
   'tenant.acmee.*, no function of it: said');
unlike(substr($t->runner_log, $mark), qr/tenant\.acme\.\* names/,
       '... not of acme, which has one');

# the config's path a folder (a mistaken deploy): it read as an empty
# config, every tenant's limit dropped, said nowhere (a stranger's pass)
my $limit = acme()->{limits}{max_instances};
rename("$p/runner.conf", "$p/runner.conf.file") or die;
mkdir "$p/runner.conf" or die;
$mark = length $t->runner_log;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
    =~ /runner\.conf" failed \(\d+: Is a directory\)/ }, 10),
   'the config a folder: refused, said') or diag(substr($t->runner_log, $mark));
is(acme()->{limits}{max_instances}, $limit,
   "... the tenant's limit stays ($limit)");
$out = `$bin --config $p/runner.conf --test 2>&1`;
isnt($? >> 8, 0, '... and --test fails on it');
like($out, qr/Is a directory/, '... saying why');
rmdir "$p/runner.conf";
rename("$p/runner.conf.file", "$p/runner.conf");

$t->done;

done_testing;
