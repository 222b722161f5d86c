#!/usr/bin/perl

# A hostile customer of a hosting provider (a root runner, customers'
# folders owned by their users, the default isolation), each step done
# as that customer's user:
#   - a symlink in its functions folder to a root-owned folder it can
#     write (/tmp stands for it) that says "user = root";
#   - a symlinked exec whose target is somebody else's;
#   - a folder that isolation keeps under /tmp swapped for a symlink
#     into a root-only directory after the function was loaded;
#   - ptrace of process 1 of its namespace (faas-init, same uid);
#   - /var/tmp and /run/lock, shared with every tenant.
# Promise: a symlink is followed only when its owner owns its target,
# every path the customer names is looked up with the customer's
# rights, faas-init is not the function's to trace, setuid programs
# gain nothing, and the writable folders are the function's own. Each
# wall has its twin done within the customer's own rights, which works.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX ();

FaasTest::need_root('a hostile customer');

my $t = FaasTest->new;
my $P = $t->prefix;
my ($uid, $gid) = (getpwnam('daemon'))[2, 3];
my $ptracer = $t->program("$FaasTest::BUILD/t/ptracer");

# what the customer does, done as the customer
sub as_customer {
    my ($code) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $) = "$gid $gid";
        POSIX::setgid($gid);
        POSIX::setuid($uid) or POSIX::_exit(3);
        umask 022;
        my $ok = eval { $code->(); 1 };
        print STDERR "as customer: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    waitpid($pid, 0);
    return $? == 0;
}

sub put {
    my ($path, $text, $mode) = @_;
    FaasTest::write_file($path, $text);
    chmod $mode // 0644, $path or die "chmod $path: $!";
}

my $cgi = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n";

# the provider: a customer's home, a root-owned folder anyone may write
# (as /tmp is), a root-only vault with a readable folder inside
mkdir "$P/$_" for qw(home home/cust shared vault);
chmod 0755, "$P/home";
chown $uid, $gid, "$P/home/cust";
chmod 0755, "$P/home/cust";
chmod 01777, "$P/shared";
chmod 0700, "$P/vault";
mkdir "$P/vault/pub";
chmod 0755, "$P/vault/pub";
put("$P/vault/pub/secret.txt", "TOPSECRET\n");

my $home = "$P/home/cust";
my $fns = "$home/functions";

ok(as_customer(sub {
    mkdir $fns or die "mkdir: $!";

    # 1. a folder of root's, written by the customer, linked in
    put("$P/shared/function.conf", "exec = ./x.sh\nmode = cgi\nuser = root\n");
    put("$P/shared/x.sh", "${cgi}id -u\n", 0755);
    symlink("$P/shared", "$fns/evil") or die "symlink: $!";

    # its twin: a link to a folder of the customer's own
    mkdir "$home/real";
    put("$home/real/function.conf", "exec = ./x.sh\nmode = cgi\n");
    put("$home/real/x.sh", "${cgi}id -u\n", 0755);
    symlink("$home/real", "$fns/good") or die "symlink: $!";

    # 2. an exec linked to a program of root's (the copy of ptracer);
    # its twin links its own
    mkdir "$fns/execlink";
    put("$fns/execlink/function.conf", "exec = ./run\nmode = cgi\n");
    symlink($ptracer, "$fns/execlink/run");
    mkdir "$fns/execown";
    put("$fns/execown/function.conf", "exec = ./run\nmode = cgi\n");
    put("$home/own.sh", "${cgi}echo own\n", 0755);
    symlink("$home/own.sh", "$fns/execown/run");

    # 3. a script folder outside the function folder, which tmp
    # isolation keeps; the reader prints what is beside the script
    mkdir "$home/s";
    put("$home/s/page", "page\n");
    mkdir "$home/s2";
    put("$home/s2/page", "page\n");
    put("$home/s2/secret.txt", "MINE\n");
    mkdir "$fns/reader";
    put("$fns/reader/function.conf",
        "exec = ./r.sh\nmode = cgi\nscript = ../../s/page\n");
    put("$fns/reader/r.sh", "${cgi}cat $home/s/secret.txt 2>&1\n", 0755);

    # its isolation off, under the operator's default floor; its twin
    # asks for more than the floor
    mkdir "$fns/noiso";
    put("$fns/noiso/function.conf", "exec = ./x.sh\nmode = cgi\n"
        . "isolation = none\n");
    put("$fns/noiso/x.sh", "${cgi}echo open\n", 0755);
    mkdir "$fns/moreiso";
    put("$fns/moreiso/function.conf", "exec = ./x.sh\nmode = cgi\n"
        . "isolation = tmp pid ipc uts\n");
    put("$fns/moreiso/x.sh", "${cgi}hostname\n", 0755);

    # 4. ptrace; 15. the shared writable folders
    mkdir "$fns/tracer";
    put("$fns/tracer/function.conf", "exec = $ptracer\nmode = cgi\n");
    mkdir "$fns/tmpspy";
    put("$fns/tmpspy/function.conf", "exec = ./t.sh\nmode = cgi\n");
    put("$fns/tmpspy/t.sh", "${cgi}ls /var/tmp /run/lock\n"
        . "echo x > /var/tmp/faas-cust-\$\$ && echo wrote\n"
        . "echo x > /run/lock/faas-cust-\$\$ && echo wrote\n", 0755);
}), 'the customer set up its folder');

# planted by the host: a tenant must not see it
my $host_mark = "faas-host-$$-" . int(rand(1e6));
put("/var/tmp/$host_mark", "host\n");
put("/run/lock/$host_mark", "host\n") if -d '/run/lock';

my $conf = "functions = " . $t->functions_dir . " $P/home/*/functions\n";

# --test names the refusals
FaasTest::write_file("$P/test.conf", $t->runner_conf_text($conf));
my $out = `$t->{runner_bin} --config $P/test.conf --test 2>&1`;
isnt($? >> 8, 0, '--test fails');
like($out, qr{"\Q$fns\E/evil" not loaded: a symlink is followed only when its owner owns its target},
     '--test: the folder linked to root\'s is refused');
like($out, qr{function "execlink": exec "./run" is not an executable file: a symlink},
     '--test: the exec linked to root\'s is refused');
like($out, qr{\Q$fns\E/noiso/function.conf:3: "isolation" drops namespaces the runner's "limit_isolation" keeps},
     '--test: isolation below limit_isolation is refused with file:line');
unlike(join("\n", grep { !/other users may read/ } split /\n/, $out),
       qr{"(good|execown|moreiso)"|/(good|moreiso)\b.* not loaded},
       '--test: the twins pass');

$t->start_runner(conf => $conf);
$t->start_nginx($t->faas_location);

# 1
my $r = $t->http_get('/fn/evil');
is($r->{status}, 404, 'a link to a root-owned folder is not a function');
unlike($r->{body}, qr/^0$/m, 'nothing ran as root');
like($t->runner_log, qr{"\Q$fns\E/evil" not loaded: a symlink is followed},
     'the log says why');
$r = $t->http_get('/fn/good');
is($r->{status}, 200, 'a link to a folder of its own works');
is($r->{body}, "$uid\n", '... run as the customer');

# 2
is($t->http_get('/fn/execlink')->{status}, 404,
   'an exec linked to somebody else\'s file: not loaded');
$r = $t->http_get('/fn/execown');
is($r->{status}, 200, 'an exec linked to its own file works');
is($r->{body}, "own\n", '... and ran');

# limit_isolation
is($t->http_get('/fn/noiso')->{status}, 404,
   'a customer cannot switch its isolation off');
$r = $t->http_get('/fn/moreiso');
is($r->{status}, 200, 'more than the floor is fine');
is($r->{body}, "moreiso\n", '... (its own host name)');

# 3
$r = $t->http_get('/fn/reader');
is($r->{status}, 200, 'the reader runs');
like($r->{body}, qr/No such file/, '... with nothing beside its script');

ok(as_customer(sub {
    rename "$home/s", "$home/s.old" or die "rename: $!";
    symlink("$P/vault/pub", "$home/s") or die "symlink: $!";
}), 'the customer swapped its script folder for a link into the vault');

$r = $t->http_get('/fn/reader');
unlike($r->{body}, qr/TOPSECRET/, 'the vault is not mounted for it');
is($r->{status}, 502, 'the function cannot start (502)');

ok(as_customer(sub {
    unlink "$home/s" or die "unlink: $!";
    symlink("$home/s2", "$home/s") or die "symlink: $!";
}), 'the customer links its script folder to one of its own');
# (after the failed start's throttle)
FaasTest::wait_for(sub {
    ($r = $t->http_get('/fn/reader'))->{status} == 200 }, 10);
is($r->{status}, 200, 'that works');
is($r->{body}, "MINE\n", '... and its own file is there');

# 4
$r = $t->http_get('/fn/tracer');
is($r->{status}, 200, 'the tracer runs');
like($r->{body}, qr/^init: Operation not permitted$/m,
     'faas-init (process 1, same uid) cannot be traced');
like($r->{body}, qr/^child: attached$/m,
     '... while a child of its own can (ptrace works)');
like($r->{body}, qr/^NoNewPrivs:\s+1$/m, 'no new privileges for a worker');

# 15
$r = $t->http_get('/fn/tmpspy');
is($r->{status}, 200, 'the tmp spy runs');
unlike($r->{body}, qr/\Q$host_mark\E/,
       'the host\'s /var/tmp and /run/lock are not its');
like($r->{body}, qr/wrote\nwrote/, 'it may write its own');
my @leaked = (glob("/var/tmp/faas-cust-*"), glob("/run/lock/faas-cust-*"));
ok(!@leaked, 'nothing it wrote reaches the host') or diag("@leaked");
unlink @leaked;
unlink "/var/tmp/$host_mark", "/run/lock/$host_mark";

is($t->http_get('/fn/good')->{status}, 200, 'the runner still serves');

$t->done;

done_testing;
