#!/usr/bin/perl

# Whom a function runs as and is metered to. Promise: a name that does
# not resolve, a group the user may not use, or a tenant that breaks the
# naming rule leaves the function unloaded (an error in the log and in
# --test, 404 to its callers), never running as the runner's own user;
# the other functions load and answer.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;
my $root = ($> == 0);

my $long = 'a' x 2000;

$t->function('good', "exec = $fn\n");
$t->function('longtenant', "exec = $fn\ntenant = $long\n");
$t->function('badtenant', "exec = $fn\ntenant = a/b\n");
$t->function('tenant64', "exec = $fn\ntenant = " . ('t' x 64) . "\n");
$t->function("dash$_->[0]", "exec = $fn\ntenant = $_->[1]\n")
    for [1, '-'], [2, '_'], [3, '--'], [4, '_-'];
$t->function('dashok', "exec = $fn\ntenant = _-a\n");
$t->function('nouser', "exec = $fn\nuser = no-such-user\n");
$t->function('nogroup', "exec = $fn\nuser = nobody\ngroup = no-such-group\n");
$t->function('notmember', "exec = $fn\nuser = nobody\ngroup = www-data\n");
$t->function('primary', "exec = $fn\nuser = nobody\ngroup = nogroup\n");

my $bin = $t->runner_bin_name;
my $out = `$bin --test --functions @{[ $t->functions_dir ]} 2>&1`;
my $rc = $? >> 8;

is($rc, 1, '--test finds the problems');
like($out, qr{\S*/longtenant/function\.conf:\d+: invalid tenant "a{64}\.\.\.": 1-64 char},
     'a 2000-byte tenant: refused, with the rule, value cut');
unlike($out, qr/a{65}/, 'the value is not echoed whole');
like($out, qr{\S*/badtenant/function\.conf:\d+: invalid tenant "a/b"},
     'a tenant with a slash: refused');
unlike($out, qr/tenant64/, 'a 64-character tenant is fine');
for my $n (1 .. 4) {
    like($out, qr{/dash$n/function\.conf:2: invalid tenant "[-_]+"},
         "a tenant of only '-' and '_' ($n): refused (nginx logs '-' for "
         . 'none)');
}
unlike($out, qr/dashok/, 'a tenant "_-a" is fine');
unlike($out, qr/Sanitizer|runtime error/, 'no sanitizer report');

SKIP: {
    skip 'user and group apply to a root runner only', 4 unless $root;
    like($out, qr{/nouser/function\.conf:\d+: unknown user "no-such-user", function not loaded},
         'unknown user');
    like($out, qr{/nogroup/function\.conf:\d+: unknown group "no-such-group"}, 'unknown group');
    like($out, qr{/notmember/function\.conf:\d+: user "nobody" is not a member of group "www},
         'a group the user is not in');
    unlike($out, qr/"primary"/, "the user's primary group is fine");
}

$t->start_runner;
$t->{port} = FaasTest::free_port();
$t->start_nginx("    log_format faas_tenant 'tenant=\$faas_tenant "
                . "outcome=\$faas_status';\n"
                . $t->faas_location(location => 'access_log '
                    . $t->prefix . '/logs/faas.log faas_tenant;'));

is($t->http_get('/fn/good')->{status}, 200, 'the good function answers');

for my $name (qw(longtenant badtenant nouser nogroup notmember)) {
    my $r = $t->http_get("/fn/$name?op=env");
    is($r->{status}, 404, "$name is not loaded: 404");
    unlike($r->{body} // '', qr/UID 0/, "$name never ran as root");
}

my $r = $t->http_get('/fn/primary?op=env');
is($r->{status}, 200, 'the function with its primary group answers');
SKIP: {
    skip 'not root', 2 unless $root;
    my ($uid) = $r->{body} =~ /^UID (\d+)$/m;
    is($uid, (getpwnam('nobody'))[2], 'as nobody');
    like($t->runner_log, qr{/nouser/function\.conf:\d+: unknown user}, 'the reason is logged');
}

$r = $t->http_get('/fn/tenant64');
is($r->{status}, 200, 'a 64-character tenant: loaded');
FaasTest::wait_for(sub { -s $t->prefix . '/logs/faas.log' }, 5);
like(FaasTest::read_file($t->prefix . '/logs/faas.log'),
     qr/tenant=t{64} outcome=ok/, 'and metered to it');

$t->done;

done_testing;
