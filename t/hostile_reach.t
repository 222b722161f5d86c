#!/usr/bin/perl

# A function that reaches for another tenant: reads its worker's
# /proc/PID/environ (where its secrets are), signals it, reads its
# files. Every tenant runs as a user of its own (the owner of its
# folder, or its dynamic user), so each attempt fails with EACCES or
# EPERM; the same spy in the victim's own tenant succeeds, which shows
# the attempts are real. Promise: no secret crosses tenants, the victim
# keeps answering with the same worker. That is the wall of users, seen
# with "isolation = none"; with the default isolation (tmp pid ipc) the
# spy does not even see the victim's process or its folder under /tmp.
# (X-Accel-* headers, the other reach for nginx's internals, are
# module_accel.t's.)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('tenants');

my $t = FaasTest->new;
my $fn = $t->testfn;

my ($d_uid, $d_gid) = (getpwnam('daemon'))[2, 3];

my $spy = <<'EOF';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
pid=${QUERY_STRING#pid=}
echo "environ:"
cat /proc/$pid/environ 2>&1 | tr '\0' '\n'
echo "signal:"
kill -0 "$pid" 2>&1 && echo "signal allowed"
echo "file:"
cat "$SECRET_DIR/secret.txt" 2>&1
EOF

# the victim: a customer whose folder daemon owns, a secret in its
# environment and in a file only it may read
my $vdir = $t->function('victim', "exec = $fn\nenv.DB_SECRET = s3cret-b\n",
                        'secret.txt' => "file-s3cret\n");
chown $d_uid, $d_gid, $vdir, "$vdir/secret.txt";
chmod 0600, "$vdir/secret.txt";

# spies: another customer (a dynamic tenant), and one in daemon's own
# tenant (its folder daemon's too) as the control
$t->function('spy', "exec = ./spy.sh\nmode = cgi\ntenant = mallory\n"
             . "env.SECRET_DIR = $vdir\nisolation = none\n",
             'spy.sh' => $spy);
my $cdir = $t->function('control', "exec = ./spy.sh\nmode = cgi\n"
                        . "env.SECRET_DIR = $vdir\nisolation = none\n",
                        'spy.sh' => $spy);
chown $d_uid, $d_gid, $cdir;
# and one with the default isolation
$t->function('nsspy', "exec = ./spy.sh\nmode = cgi\ntenant = mallory\n"
             . "env.SECRET_DIR = $vdir\n", 'spy.sh' => $spy);

# functions that turn isolation off: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

is($t->http_get('/fn/victim')->{status}, 200, 'the victim answers');
my ($worker) = $t->workers('victim');
ok($worker, "its worker ($worker)");
# under the default isolation the worker is faas-init, the function its
# child: the spies go for the function itself
my ($victim) = FaasTest::proc_children($worker);
$victim //= $worker;

my $r = $t->http_get("/fn/spy?pid=$victim");
is($r->{status}, 200, 'the spy runs');
unlike($r->{body}, qr/s3cret/, 'no secret of the victim reaches the spy');
like($r->{body}, qr/environ:\n.*Permission denied/,
     "another tenant's environ: permission denied");
like($r->{body}, qr/signal:\n.*(not permitted|Operation)/,
     "another tenant's worker: not to be signalled");
unlike($r->{body}, qr/signal allowed/, 'no signal went');
like($r->{body}, qr/file:\n.*Permission denied/,
     "another tenant's file: permission denied");

# the control: the same attempts from inside the tenant succeed
$r = $t->http_get("/fn/control?pid=$victim");
like($r->{body}, qr/^DB_SECRET=s3cret-b$/m,
     'in its own tenant the environ is readable (the attempt is real)');
like($r->{body}, qr/signal allowed/, '... and the worker signallable');
like($r->{body}, qr/file-s3cret/, '... and the file readable');

# faas-init, the same user's too, is not readable even from inside
if ($victim != $worker) {
    $r = $t->http_get("/fn/control?pid=$worker");
    like($r->{body}, qr/environ:\n.*Permission denied/,
         "faas-init's environ: not even its own tenant's to read");
}

# isolated: no such process, no such file
$r = $t->http_get("/fn/nsspy?pid=$victim");
is($r->{status}, 200, 'the isolated spy runs');
unlike($r->{body}, qr/s3cret/, 'no secret reaches it');
like($r->{body}, qr/environ:\n.*No such file/,
     "isolated: another tenant's process is not in its /proc");
like($r->{body}, qr/signal:\n.*No such process/,
     "isolated: nor to be signalled");
like($r->{body}, qr/file:\n.*No such file/,
     "isolated: another tenant's folder under /tmp is not in its /tmp")
    if $vdir =~ m{^/tmp/};

is($t->http_get('/fn/victim')->{status}, 200, 'the victim still answers');
is(($t->workers('victim'))[0], $worker, 'with the same worker');

$t->done;

done_testing;
