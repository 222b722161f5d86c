#!/usr/bin/perl

# The Debian packages as a user gets them: libnginx-mod-http-faas and
# fcgi-runner (from build/deb, built by "make deb" when missing or built
# from other sources than the tree's; TEST_FAAS_DEBS=DIR uses others)
# installed with "apt-get install ./...deb" beside Debian's nginx; the
# example site enabled and the example CGI function copied into
# /etc/faas/functions; the runner started as its systemd unit starts it
# (no systemd here: the unit's ExecStart, directories, umask and
# environment, read from the installed unit); a 200 from the function
# through the installed module and runner; then "apt-get purge" of both,
# after which nothing that dpkg -L listed, nor what the maintainer
# scripts made, is left.
#
# nginx runs with a config of the test's own (including
# /etc/nginx/modules-enabled/*.conf, as Debian's nginx.conf does) on a
# free loopback port, its files under a temporary prefix: a system nginx
# and port 80 are never touched. Nothing is skipped: a machine that
# cannot run this (not root, no apt-get or nginx) fails with the reason.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Compare qw(compare);
use File::Path qw(remove_tree make_path);
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);

my @PKGS = qw(libnginx-mod-http-faas fcgi-runner fcgi-runner-php);
my $ROOT = $FaasTest::ROOT;
my $DEBS = $ENV{TEST_FAAS_DEBS} // "$FaasTest::BUILD/deb";
my $FN = '/etc/faas/functions/hello-cgi';
my $PHPFN = '/etc/faas/functions/hello-php';
my $UNIT = '/lib/systemd/system/fcgi-runner.service';
my $ENABLED = '/etc/nginx/modules-enabled/50-mod-http-faas.conf';
my $APT = 'DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -y -q '
        . '-o DPkg::Lock::Timeout=300';

my ($installed, $made_rundir);

# --- what the machine must have -------------------------------------------

my @missing;
push @missing, 'root (it installs packages)' unless $> == 0;
for my $tool (qw(apt-get dpkg dpkg-query timeout)) {
    push @missing, $tool unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}
push @missing, "Debian's nginx (/usr/sbin/nginx)" unless -x '/usr/sbin/nginx';

if (@missing) {
    fail("the packages' install test cannot run here: needs "
         . join(', ', @missing));
    done_testing;
    exit 1;
}

# --- the packages ---------------------------------------------------------

sub debs {
    my %deb;
    for my $p (@PKGS) {
        ($deb{$p}) = sort { -M $a <=> -M $b } glob("$DEBS/${p}_*.deb");
    }
    return %deb;
}

# packages built from another tree than this one (make deb keeps the
# copy it built them from beside them): files not of t/ that differ
sub stale {
    my ($src) = glob("$DEBS/ngx-faas-*/debian");
    return 1 unless $src;
    $src =~ s{/debian$}{};
    my $files = `git -C $ROOT ls-files -co --exclude-standard 2>/dev/null`;
    for my $f (split /\n/, $files) {
        # (tar --exclude-vcs leaves .gitignore out of the copy)
        next if $f =~ m{^t/|(^|/)\.git} || -l "$ROOT/$f";
        return 1 if compare("$ROOT/$f", "$src/$f") != 0;
    }
    return 0;
}

my %deb = debs();
my $stale = grep({ !$_ } values %deb) || stale();

if ($stale && !$ENV{TEST_FAAS_DEBS}) {
    # dpkg-buildpackage builds everything again: minutes on a busy machine
    alarm(($ENV{TEST_FAAS_TIMEOUT} // 300) + 1200);
    my $out = `make -s -C $ROOT deb 2>&1`;
    is($?, 0, 'make deb') or diag($out);
    %deb = debs();
    alarm($ENV{TEST_FAAS_TIMEOUT} // 300);
}

for my $p (@PKGS) {
    ok($deb{$p}, "$p package in $DEBS") or do {
        done_testing;
        exit 1;
    };
}

# --- a clean start: an earlier run's packages and copy go -----------------

sub pkg_status {
    my ($p) = @_;
    my $s = `dpkg-query -W -f='\${Status}' $p 2>/dev/null`;
    return $s;
}

sub purge {
    my @there = grep { pkg_status($_) =~ /installed|config-files/ } @PKGS;
    return (0, '') unless @there;
    my $out = `$APT purge @there 2>&1`;
    return ($?, $out);
}

# the example function this test copies in; only when it is the example
sub remove_function_copy {
    for my $fn ($FN, $PHPFN) {
        next unless -d $fn;
        my ($name) = $fn =~ m{([^/]+)$};
        my $ours = FaasTest::read_file("$ROOT/functions/$name/function.conf");
        remove_tree($fn) if FaasTest::read_file("$fn/function.conf") eq $ours;
    }
}

END {
    # a test that stopped half way leaves the machine as it found it
    remove_function_copy();
    rmdir '/run/faas' if $made_rundir;
    purge() if $installed;
}

my ($rc, $out) = purge();
is($rc, 0, 'packages of an earlier run purged') or diag($out);
remove_function_copy();

# --- install --------------------------------------------------------------

$out = `$APT install @deb{qw(libnginx-mod-http-faas fcgi-runner fcgi-runner-php)} 2>&1`;
$installed = 1;
is($?, 0, 'apt-get install ./libnginx-mod-http-faas_*.deb '
          . './fcgi-runner_*.deb ./fcgi-runner-php_*.deb') or do {
    diag($out);
    done_testing;
    exit 1;
};

for my $p (@PKGS) {
    like(pkg_status($p), qr/install ok installed/, "$p installed");
}

# the nginx ABI the module was built for is the one nginx provides
my ($abi) = `dpkg-query -W -f='\${Provides}' nginx` =~ /(nginx-abi-[\w.+~-]+)/;
ok($abi, "nginx provides an ABI ($abi)");
like(`dpkg-query -W -f='\${Depends}' libnginx-mod-http-faas`,
     qr/(^|[ ,])\Q$abi\E(,|$)/, "the module depends on $abi");

for my $f (qw(/usr/lib/nginx/modules/ngx_http_faas_module.so
              /usr/share/nginx/modules-available/mod-http-faas.conf
              /usr/sbin/fcgi-runner /usr/lib/faas/faas-init
              /usr/lib/faas/faas-php
              /lib/systemd/system/fcgi-runner.service /etc/faas/runner.conf
              /usr/share/man/man8/fcgi-runner.8.gz
              /usr/share/man/man5/function.conf.5.gz
              /usr/share/doc/fcgi-runner/examples/faas-site.conf
              /usr/share/doc/fcgi-runner/examples/functions/hello-cgi/hello.sh))
{
    ok(-f $f, "installs $f");
}
is(readlink($ENABLED), '/usr/share/nginx/modules-available/mod-http-faas.conf',
   'the module enabled in modules-enabled');
like(FaasTest::read_file(
         '/usr/share/nginx/modules-available/mod-http-faas.conf'),
     qr/^load_module modules\/ngx_http_faas_module\.so;$/m, 'its snippet');
like(`dpkg-query -W -f='\${Conffiles}' fcgi-runner`,
     qr{^ /etc/faas/runner\.conf [0-9a-f]{32}$}m,
     '/etc/faas/runner.conf is a conffile');
is((stat '/etc/faas/runner.conf')[2] & 07777, 0640,
   'runner.conf is root\'s alone (a store password, env.* secrets)');
# an upgraded host's: dpkg keeps a conffile's mode, the postinst does not
chmod 0644, '/etc/faas/runner.conf';
system('/var/lib/dpkg/info/fcgi-runner.postinst', 'configure', '0.0.9');
is((stat '/etc/faas/runner.conf')[2] & 07777, 0640,
   '... and made so on an upgrade from a world-readable one');
like(`dpkg-query -W -f='\${Depends}' fcgi-runner-php`,
     qr/(^|[ ,])libphp8\.2-embed(,|$| )/,
     'fcgi-runner-php depends on libphp8.2-embed (faas-php needs libphp.so)');
my @fl = stat '/var/log/nginx/faas.log';
ok(@fl && ($fl[2] & 07777) == 0640 && $fl[4] == getpwnam('www-data')
   && $fl[5] == getgrnam('adm'), 'the example site\'s log made 0640 '
   . 'www-data:adm, as Debian\'s nginx makes its own (nginx would make it '
   . '0644: every tenant\'s function reading every tenant\'s invocations)');
my $mark = '/var/lib/faas/made-nginx-faas-log';
ok(-f $mark && ((stat $mark)[2] & 07777) == 0600, 'the postinst\'s mark '
   . 'that it made the log is 0600, as the runner keeps state_dir');
ok(-f '/etc/logrotate.d/fcgi-runner', 'a logrotate file for /var/log/faas');
ok(-x '/usr/sbin/logrotate', 'logrotate is here (make test-deps)');
my $lr = `/usr/sbin/logrotate -d /etc/logrotate.d/fcgi-runner 2>&1`;
is($? >> 8, 0, '... logrotate takes it') or diag($lr);
like($lr, qr{/var/log/faas/\*\.log}, '... for /var/log/faas');
like(FaasTest::read_file('/etc/logrotate.d/fcgi-runner'),
     qr/systemctl kill --kill-whom=main -s USR1 fcgi-runner\.service/,
     '... its SIGUSR1 to the runner alone: the unit\'s workers would die '
     . 'of it (without systemd: below)');
my $unit = FaasTest::read_file('/lib/systemd/system/fcgi-runner.service');
like($unit, qr/^KillMode=mixed$/m, 'the unit sends SIGTERM to the runner '
     . 'alone: the requests in flight finish, their workers are not killed');
my ($stop) = $unit =~ /^TimeoutStopSec=(\d+)$/m;
ok(($stop // 0) > 300, 'and waits longer than limit_timeout\'s default');
like($unit, qr{^ReadWritePaths=-/etc/faas/functions$}m,
     'functions in /etc/faas/functions may write to their folders');
ok(-d '/var/lib/faas' && ((stat '/var/lib/faas')[2] & 07777) == 0700,
   'the postinst made state_dir /var/lib/faas, mode 0700');
ok(-d '/etc/faas/functions', 'the functions folder');
ok(-l '/etc/systemd/system/multi-user.target.wants/fcgi-runner.service',
   'the unit enabled (started at boot where systemd runs)');
like(`/usr/sbin/fcgi-runner --version 2>&1`, qr/^fcgi-runner \d/,
     'the installed runner runs');

my %owned;
for my $p (@PKGS) {
    $owned{$_} = $p for grep { $_ ne '/.' } split /\n/, `dpkg -L $p`;
}

# --- the example site, the example function -------------------------------

my $t = FaasTest->new;
my $p = $t->prefix;
my $port = FaasTest::free_port();
$t->{port} = $port;

my $site = FaasTest::read_file(
    '/usr/share/doc/fcgi-runner/examples/faas-site.conf');
ok($site =~ s{listen 8080;}{listen 127.0.0.1:$port;},
   'the example site listens on 8080 (here a free loopback port)');
$site =~ s{/var/log/nginx/}{$p/logs/}g;
FaasTest::write_file("$p/faas-site.conf", $site);

FaasTest::write_file("$p/nginx.conf", <<"EOF");
user www-data;
worker_processes 1;
daemon off;
pid $p/nginx.pid;
error_log $p/logs/error.log info;
include /etc/nginx/modules-enabled/*.conf;

events { worker_connections 64; }

http {
    access_log $p/logs/access.log;
    client_body_temp_path $p/client_body_temp;
    fastcgi_temp_path $p/fastcgi_temp;
    proxy_temp_path $p/proxy_temp;
    scgi_temp_path $p/scgi_temp;
    uwsgi_temp_path $p/uwsgi_temp;
    faas_temp_path $p/faas_temp;

    include $p/faas-site.conf;
}
EOF

# the packaged nginx's own prefix (/usr/share/nginx, whose modules/ is
# /usr/lib/nginx/modules): load_module modules/... resolves as it does for
# the system's nginx; every path of ours is absolute
$out = `/usr/sbin/nginx -t -c $p/nginx.conf -e $p/logs/error.log 2>&1`;
is($? >> 8, 0, 'nginx -t: the installed module loads, the site parses')
    or diag($out);

# as a user would: cp -r the example into the functions folder
system('cp', '-r', '/usr/share/doc/fcgi-runner/examples/functions/hello-cgi',
       $FN) == 0 or die "cp: $?";
ok(-x "$FN/hello.sh", 'the example CGI script is executable');
# and the PHP one (runtime = php: the installed faas-php)
system('cp', '-r', '/usr/share/doc/fcgi-runner/examples/functions/hello-php',
       $PHPFN) == 0 or die "cp: $?";

# --- the runner, as the unit starts it ------------------------------------

my %unit;
for (split /\n/, FaasTest::read_file($UNIT)) {
    $unit{$1} = $2 if /^(\w+)=(.*)$/;
}
ok($unit{ExecStart}, "ExecStart in $UNIT: $unit{ExecStart}");

my %dirs = (RuntimeDirectory => '/run', StateDirectory => '/var/lib',
            LogsDirectory => '/var/log');
my %env = (PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
                 . '/sbin:/bin');
for my $d (sort keys %dirs) {
    my $name = $unit{$d} or next;
    my $path = "$dirs{$d}/$name";
    my $mode = oct($unit{"${d}Mode"} // '0755');
    unless (-d $path) {
        mkdir $path or die "mkdir $path: $!";
        $made_rundir = 1 if $d eq 'RuntimeDirectory';
    }
    chmod $mode, $path;
    (my $var = $d) =~ s/Directory$/_DIRECTORY/;
    $env{uc $var} = $path;
}

$t->{runner_log} = "$p/logs/runner.log";
my $runner = fork // die "fork: $!";
if ($runner == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/runner.log";
    open STDERR, '>>', "$p/logs/runner.log";
    chdir '/';
    umask oct($unit{UMask} // '0022');
    %ENV = %env;
    exec split(' ', $unit{ExecStart}) or POSIX::_exit(127);
}
$t->{runner_pid} = $runner;

my $up = FaasTest::wait_for(sub {
    return -1 unless kill 0, $runner;
    return IO::Socket::UNIX->new(Peer => '/run/faas/runner.sock',
                                 Type => SOCK_STREAM);
}, 10);
ok($up && $up != -1, 'the runner listens on /run/faas/runner.sock')
    or diag($t->runner_log);
unlike($t->runner_log, qr/was mode/,
       '... with nothing in state_dir to repair at its first start');

# --- nginx ----------------------------------------------------------------

my $nginx = fork // die "fork: $!";
if ($nginx == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/nginx.out";
    open STDERR, '>>', "$p/logs/nginx.out";
    exec '/usr/sbin/nginx', '-c', "$p/nginx.conf",
         '-e', "$p/logs/error.log" or POSIX::_exit(127);
}
$t->{nginx_pid} = $nginx;

ok(FaasTest::wait_for(sub {
    kill(0, $nginx) && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                             Timeout => 1);
}, 10), 'nginx with the installed module listens')
    or diag(FaasTest::read_file("$p/logs/nginx.out") . $t->error_log);

my $r = $t->http_get('/fn/hello-cgi/there');
is($r->{status}, 200, 'GET /fn/hello-cgi/there: 200 through module and runner')
    or diag(explain($r), $t->runner_log, $t->error_log);
is($r->{body}, "Hello from CGI, GET /there\n", 'the function answered');

$r = $t->http_get('/fn/hello-php');
is($r->{status}, 200, 'GET /fn/hello-php: 200, runtime = php')
    or diag(explain($r), $t->runner_log);
like($r->{body}, qr/^Hello from PHP 8\.\d+/, 'PHP answered (fcgi-runner-php)');
my @ps = stat '/var/lib/php/faas-sessions';
ok(@ps && $ps[4] == 0 && ($ps[2] & 07777) == 0711,
   'its sessions\' folders in /var/lib/php/faas-sessions (purged below)');

like($unit{Delegate} // '', qr/\bmemory\b/, 'the unit delegates the memory '
     . 'controller (cgroup v2): memory cgroups of the runner\'s own');
SKIP: {
    skip 'no memory cgroup controller on this host', 2
        if $t->runner_log =~ /no memory cgroup controller found/;
    my ($cg) = $t->runner_log =~ /memory cgroups \(v\d\) in "([^"]+)"/;
    ok($cg && -d $cg, 'the installed runner made its memory cgroup: '
       . ($cg // 'none')) or diag($t->runner_log);
    my ($php) = glob(($cg // '/nonexistent') . '/t.*/f.hello-php');
    ok($php && FaasTest::read_file("$php/cgroup.procs") =~ /^\d+$/m,
       '... hello-php\'s processes in a cgroup of their own')
        or diag($php // 'no cgroup for hello-php');
}

$r = $t->http_get('/faas/status');
is($r->{status}, 200, 'the runner\'s status through the example site');
like($r->{body} // '', qr/"name":"hello-cgi"/, 'it lists the function');

ok(FaasTest::wait_for(sub {
    FaasTest::read_file("$p/logs/faas.log")
        =~ /function=hello-cgi tenant=\S+ status=200 outcome=ok duration=[\d.]+ /;
}, 5), 'the example site meters the invocation (the faas_meter format)');

# the packaged logrotate with no systemd (as here, and as README.Debian
# runs it): its postrotate signals the runner its status socket names,
# which reopens meter_log (it wrote on into meter.log.1 for good)
sub meter_fd {
    for my $fd (glob "/proc/$runner/fd/*") {
        my $to = readlink($fd) // next;
        return $to if $to =~ m{^/var/log/faas/meter\.log};
    }
    return '';
}
is(meter_fd(), '/var/log/faas/meter.log', 'the runner writes meter_log '
   . 'in /var/log/faas');
FaasTest::write_file('/var/log/faas/meter.log', "a line to rotate\n")
    if -z '/var/log/faas/meter.log';
$out = `/usr/sbin/logrotate -f -s $p/logrotate.state /etc/logrotate.d/fcgi-runner 2>&1`;
is($? >> 8, 0, 'logrotate -f rotates /var/log/faas') or diag($out);
ok(-e '/var/log/faas/meter.log.1', '... meter.log is meter.log.1');
ok(FaasTest::wait_for(sub { meter_fd() eq '/var/log/faas/meter.log' }, 10),
   '... and the runner reopened meter.log (SIGUSR1 from its postrotate)')
    or diag(meter_fd(), $t->runner_log);

# stops nginx, then the runner (SIGTERM, exit 0); no alert or emerg
$t->done;

ok(!grep({ (readlink("/proc/$_/cwd") // '') =~ m{^\Q$FN\E|^\Q$PHPFN\E} }
         map { m{(\d+)$} } glob '/proc/[0-9]*'),
   'no worker of the function left');

# as systemd does when the unit stops
remove_tree('/run/faas') if $made_rundir;
$made_rundir = 0;
remove_function_copy();

# --- purge ----------------------------------------------------------------

# the module's temporary folder, as an nginx of the default
# faas_temp_path makes it at its start (this one's is under the prefix)
if (!-d '/var/lib/nginx/fastcgi_faas') {
    mkdir '/var/lib/nginx/fastcgi_faas', 0700;
    my $www = getpwnam('www-data');
    chown $www, 0, '/var/lib/nginx/fastcgi_faas' if defined $www;
}

($rc, $out) = purge();
is($rc, 0, 'apt-get purge libnginx-mod-http-faas fcgi-runner '
          . 'fcgi-runner-php') or diag($out);
$installed = 0;

for my $pkg (@PKGS) {
    unlike(pkg_status($pkg), qr/installed|config-files/, "$pkg purged");
}

# a directory may stay where another package still owns it (/usr/sbin),
# or where it is the system's link (/lib, on a merged /usr)
my @left;
for my $f (sort keys %owned) {
    next unless -e $f || -l $f;
    next if -d $f && (-l $f || `dpkg -S $f 2>/dev/null` ne '');
    push @left, $f;
}
push @left, grep { -e $_ || -l $_ } $ENABLED, "$ENABLED.removed",
    '/var/lib/faas', '/var/log/faas', '/run/faas', '/etc/faas',
    '/var/log/nginx/faas.log',
    '/var/lib/php/faas-sessions', '/var/lib/nginx/fastcgi_faas',
    '/etc/systemd/system/multi-user.target.wants/fcgi-runner.service';
# what deb-systemd-helper remembers of the unit's enabling
my $dsh = '/var/lib/systemd/deb-systemd-helper-enabled';
push @left, split /\n/, `find $dsh -name 'fcgi-runner*' 2>/dev/null`;
ok(!@left, 'nothing of the packages left after purge') or diag("left: @left");

done_testing;
