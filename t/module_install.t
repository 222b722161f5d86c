#!/usr/bin/perl

# make install lays the files out as Debian's nginx expects, and the
# shipped example site passes nginx -t with the module loaded; make
# uninstall takes them away again (a runner.conf that was changed and
# the functions stay). make deps names what building and running need,
# make test-deps the tools of the tests and the bench, which make test
# and make bench install, and make deps does not.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path);

my $t = FaasTest->new;
my $d = $t->prefix . '/dest';
my $root = $FaasTest::ROOT;

my $out = `make -s -C $root install DESTDIR=$d 2>&1`;
is($?, 0, 'make install DESTDIR=...') or diag($out);

for my $f (qw(usr/lib/nginx/modules/ngx_http_faas_module.so
              usr/sbin/fcgi-runner lib/systemd/system/fcgi-runner.service
              lib/systemd/system/fcgi-runner.socket
              etc/faas/runner.conf
              usr/share/nginx/modules-available/mod-http-faas.conf
              usr/share/man/man8/fcgi-runner.8
              usr/share/man/man5/function.conf.5))
{
    ok(-f "$d/$f", "installs $f");
}
# it may hold a store's password, as the package's copy
is(sprintf('%o', (stat "$d/etc/faas/runner.conf")[2] & 07777), '640',
   'runner.conf: 0640');
is(readlink("$d/etc/nginx/modules-enabled/50-mod-http-faas.conf"),
   '/usr/share/nginx/modules-available/mod-http-faas.conf',
   'enabled the Debian way');
like(FaasTest::read_file(
         "$d/usr/share/nginx/modules-available/mod-http-faas.conf"),
     qr/^load_module modules\/ngx_http_faas_module\.so;$/m, 'the snippet');

# the runner installed under a prefix finds its faas-init in
# ../lib/faas, as it finds its runtimes' drivers there (it said
# "faas-init is not beside the runner", and gave no pid namespace)
{
    my $c = $t->prefix . '/installed';
    make_path("$c/functions/one");
    FaasTest::write_file("$c/functions/one/function.conf",
                         "exec = /bin/true\nmode = cgi\nisolation = pid\n");
    FaasTest::write_file("$c/runner.conf",
                         "functions = $c/functions\n"
                         . "listen = unix:$c/runner.sock\n"
                         . "state_dir = $c/state\n");
    my $said = `$d/usr/sbin/fcgi-runner --test --config $c/runner.conf 2>&1`;
    unlike($said, qr/faas-init is not beside/,
           'the installed runner finds the installed faas-init');
    unlike($said, qr/isolation/, '... and isolation = pid is no problem')
        or diag($said);
}

# a second install puts down new inodes: what running nginx workers (or
# a running runner) have mapped is never rewritten under them
{
    my %ino;
    my %fh;
    my @mapped = qw(usr/lib/nginx/modules/ngx_http_faas_module.so
                    usr/sbin/fcgi-runner usr/lib/faas/faas-init);
    for my $f (@mapped) {
        $ino{$f} = (stat "$d/$f")[1];
        open $fh{$f}, '<', "$d/$f" or die "open $d/$f: $!";
    }
    $out = `make -s -C $root install DESTDIR=$d 2>&1`;
    is($?, 0, 'make install again') or diag($out);
    for my $f (@mapped) {
        my @st = stat "$d/$f";
        isnt($st[1], $ino{$f}, "$f: a new inode");
        is((stat $fh{$f})[3], 0, "$f: the old one is unlinked, not rewritten");
        is(sprintf('%o', $st[2] & 07777), $f =~ /\.so$/ ? '644' : '755',
           "$f: its mode");
    }
    my @tmp = grep { m{/\.[^/]+\.new$} } split /\n/, `find $d -name '.*'`;
    is("@tmp", '', 'no temporary file left');

    # and the name is never missing nor a half-written file: the file is
    # written under another name and renamed over (install(1) alone
    # unlinks the name, then writes it anew under that name)
  SKIP: {
        skip('no strace', 2 * @mapped) unless `which strace` =~ /strace/;
        my $trace = $t->prefix . '/install.strace';
        $out = `strace -f -o $trace -e trace=openat,unlinkat,rename,renameat,renameat2 make -s -C $root install DESTDIR=$d 2>&1`;
        my $st = FaasTest::read_file($trace);
        for my $f (@mapped) {
            unlike($st, qr{unlinkat\(AT_FDCWD,\ "\Q$d/$f\E"
                           |openat\(AT_FDCWD,\ "\Q$d/$f\E",[^)]*O_(?:WR|RDWR)}x,
                   "$f: never unlinked nor written under its name");
            like($st, qr{rename\w*\(.*"\Q$d/$f\E"}, "$f: renamed into place");
        }
    }
}

# the example site, as a user would include it
my $site = FaasTest::read_file("$root/conf/faas-site.conf");
$site =~ s{/var/log/nginx/}{@{[ $t->prefix ]}/logs/}g;
$site =~ s{listen 8080}{listen 127.0.0.1:@{[ FaasTest::free_port() ]}};
FaasTest::write_file($t->prefix . '/site.conf', $site);
my $conf = $t->prefix . '/nginx-site.conf';
FaasTest::write_file($conf, $t->nginx_conf_text(
    "include " . $t->prefix . "/site.conf;\n"));
$out = `nginx -t -p @{[ $t->prefix ]}/ -c $conf 2>&1`;
is($? >> 8, 0, 'conf/faas-site.conf passes nginx -t') or diag($out);

# the runner's example configuration is valid, with the example
# functions where their (dynamic) user can reach them: the checkout may
# be where only root can (a clone under /root), and --test says so
my $tree = $t->prefix . '/tree';
make_path("$tree/build/functions/hello");
system('cp', '-r', "$root/functions", "$tree/") == 0
    and system('cp', "$root/build/functions/hello/hello",
               "$tree/build/functions/hello/") == 0 or die "cp: $?";
system('chmod', '-R', 'go+rX', $tree) == 0 or die "chmod: $?";
my $cmd = "$d/usr/sbin/fcgi-runner --test --config $d/etc/faas/runner.conf "
        . "--functions $tree/functions 2>&1";
$out = `$cmd`;
is($? >> 8, 0, 'conf/runner.conf with the examples passes --test')
    or diag($out);

# --- uninstall --------------------------------------------------------------

my @installed = map { s{^\Q$d\E/}{}r }
                split /\n/, `find $d ! -type d | sort`;
cmp_ok(scalar(@installed), '>=', 9, 'what install put down: '
       . scalar(@installed) . ' files');

$out = `make -s -C $root uninstall DESTDIR=$d 2>&1`;
is($?, 0, 'make uninstall DESTDIR=...') or diag($out);
is(`find $d ! -type d | sort`, '', 'every file it put down is gone');
ok(!-e "$d/etc/faas" && !-e "$d/usr/lib/faas"
   && !-e "$d/usr/share/doc/ngx-faas", 'and the folders of its own');

# a changed runner.conf and a function stay
`make -s -C $root install DESTDIR=$d 2>&1`;
FaasTest::write_file("$d/etc/faas/runner.conf", "# mine\n");
mkdir "$d/etc/faas/functions/mine";
$out = `make -s -C $root uninstall DESTDIR=$d 2>&1`;
is($?, 0, 'make uninstall again');
like($out, qr/kept \S+\/etc\/faas\/runner\.conf: it was changed/,
     'says it kept the changed runner.conf');
is(FaasTest::read_file("$d/etc/faas/runner.conf"), "# mine\n",
   '... which stays');
ok(-d "$d/etc/faas/functions/mine", 'the functions stay');
ok(!-e "$d/usr/sbin/fcgi-runner", 'the rest is gone');

# --- deps and test-deps -----------------------------------------------------

my %pkgs;
for my $target (qw(deps test-deps)) {
    my ($list) = `make -s -n -C $root $target` =~ /for p in ([^;]*);/;
    $pkgs{$target} = { map { $_ => 1 } split ' ', $list // '' };
}
for my $p (qw(nginx nginx-dev libpcre2-dev libfcgi-dev libsqlite3-dev)) {
    ok($pkgs{deps}{$p}, "make deps installs $p");
}
for my $p (qw(wrk prometheus php-fpm fcgiwrap clang strace)) {
    ok(!$pkgs{deps}{$p} && $pkgs{'test-deps'}{$p},
       "$p: make test-deps, not make deps");
}
for my $target (qw(test bench)) {
    like(`make -n -C $root $target 2>/dev/null | head -3`, qr/\bwrk\b/,
         "make $target installs the test tools first");
}

done_testing;
