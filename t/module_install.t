#!/usr/bin/perl

# make install lays the files out as Debian's nginx expects, and the
# shipped example site passes nginx -t with the module loaded.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $d = $t->prefix . '/dest';
my $root = $FaasTest::ROOT;

my $out = `make -s -C $root install DESTDIR=$d 2>&1`;
is($?, 0, 'make install DESTDIR=...') or diag($out);

for my $f (qw(usr/lib/nginx/modules/ngx_http_faas_module.so
              usr/sbin/fcgi-runner lib/systemd/system/fcgi-runner.service
              etc/faas/runner.conf
              usr/share/nginx/modules-available/mod-http-faas.conf
              usr/share/man/man8/fcgi-runner.8
              usr/share/man/man5/function.conf.5))
{
    ok(-f "$d/$f", "installs $f");
}
is(readlink("$d/etc/nginx/modules-enabled/50-mod-http-faas.conf"),
   '/usr/share/nginx/modules-available/mod-http-faas.conf',
   'enabled the Debian way');
like(FaasTest::read_file(
         "$d/usr/share/nginx/modules-available/mod-http-faas.conf"),
     qr/^load_module modules\/ngx_http_faas_module\.so;$/m, 'the snippet');

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

# the runner's example configuration is valid
my $cmd = "$d/usr/sbin/fcgi-runner --test --config $d/etc/faas/runner.conf "
        . "--functions $root/functions 2>&1";
$out = `$cmd`;
is($? >> 8, 0, 'conf/runner.conf with the examples passes --test')
    or diag($out);

done_testing;
