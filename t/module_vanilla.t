#!/usr/bin/perl

# The module built the way most third-party modules are: inside nginx's
# own source tree of the packaged version (Debian's orig tarball, so
# vanilla nginx), with its configure's flags (-O -Werror with GCC), and
# loaded into the nginx built from that tree. make test builds it
# (tools/nginx-build.sh); a build that fails stops make test there.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $dir = "$FaasTest::BUILD/vanilla";
ok(-x "$dir/nginx" && -f "$dir/ngx_http_faas_module.so",
   'vanilla nginx and the module built in its tree')
    or BAIL_OUT("no $dir/nginx: make test builds it (make nginx-builds)");

my ($cflags) = FaasTest::read_file("$dir/Makefile") =~ /^CFLAGS\s*=(.*)$/m;
like($cflags, qr/-Werror/, "with vanilla's -Werror");
like($cflags, qr/(^|\s)-O(\s|$)/, 'and -O, under which GCC checks for '
     . 'maybe-uninitialized');
unlike($cflags, qr/sanitize/, 'no sanitizer in this one');

my $version = `$dir/nginx -v 2>&1`;
my ($packaged) = `dpkg-query -W -f '\${Version}' nginx` =~ /^([\d.]+)/;
like($version, qr{nginx/\Q$packaged\E}, "the packaged version, $packaged");

my $t = FaasTest->new(nginx => "$dir/nginx",
                      module => "$dir/ngx_http_faas_module.so");
my $fn = $t->testfn;
$t->function('hello', "exec = $fn\n");
$t->function('cgi', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                       . "\\r\\n'\nsleep 0.05\necho late body\n");
$t->start_runner;

my $log = $t->prefix . '/logs/faas.log';
$t->start_nginx(FaasTest::meter_log_format()
    . $t->faas_location(location => "access_log $log faas_meter;",
                        extra => "location = /one { faas_function hello; "
                               . "faas_pass runner; }"));

my $r = $t->http_get('/fn/hello');
is($r->{status}, 200, 'faas_route through vanilla nginx');
like($r->{body}, qr/^pid=\d+$/m, 'the function answers');
is($t->http_get('/one')->{status}, 200, 'faas_function');
is($t->http_get('/fn/cgi')->{body}, "late body\n", 'a body after its '
   . 'header record');
is($t->http_get('/fn/nosuch')->{status}, 404, 'unknown function: 404');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file($log) =~ /function=cgi .*outcome=ok duration=\d/
   }, 5), 'metered');

$t->done;

done_testing;
