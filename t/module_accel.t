#!/usr/bin/perl

# X-Accel-* headers from functions. Functions are untrusted code: by
# default nginx neither acts on them (X-Accel-Redirect would read any
# internal location of the host) nor passes them to the client;
# faas_accel_headers on, for a deployment that trusts its functions,
# lets nginx act on them as fastcgi_pass does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;

$t->function('redirect', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nprintf 'X-Accel-Redirect: /secret/"
                       . "key\\r\\nX-Accel-Expires: 100\\r\\n"
                       . "X-Accel-Foo: bar\\r\\nx-accel-: empty\\r\\n"
                       . "X-ACCEL-LIMIT-RATE-X: 1\\r\\nX-Accelerated: kept\\r\\n"
                       . "x-accel-a-name-much-longer-than-thirty-two-bytes: 1"
                       . "\\r\\n"
                       . "Content-Type: text/plain\\r\\n\\r\\n"
                       . "function body\\n'\n");
$t->start_runner;

my $p = $t->prefix;
mkdir "$p/secret";
FaasTest::write_file("$p/secret/key", "the host's secret\n");
chmod 0755, "$p/secret";
chmod 0644, "$p/secret/key";

$t->start_nginx($t->faas_location(extra => <<"EOF"));
        location /secret/ { internal; root $p; }
        # README's stock fastcgi_pass location, as printed
        location ~ ^/fc/(?<fname>[^/]+)(?<fpath>/.*)?\$ {
            fastcgi_pass runner;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
            fastcgi_param PATH_INFO \$fpath;
            fastcgi_ignore_headers X-Accel-Redirect X-Accel-Expires
                                   X-Accel-Limit-Rate X-Accel-Buffering
                                   X-Accel-Charset;
        }
        location /trusted/ {
            faas_route ^/trusted/(?<tname>[^/]*)\$ \$tname;
            faas_pass runner;
            faas_accel_headers on;
        }
EOF

my $r = $t->http_get('/fn/redirect');
is($r->{status}, 200, 'default: the function answers');
is($r->{body}, "function body\n", "with its own body, not the internal "
   . "location's");
unlike($r->{raw}, qr/secret/, 'the secret is not served');
unlike($r->{raw}, qr/X-Accel-/i, 'no X-Accel-* header reaches the client '
       . '(nor one nginx does not know: X-Accel-Foo, x-accel-, a long one)');
is(FaasTest::header($r, 'x-accelerated'), 'kept', '... X-Accelerated does');

$r = $t->http_get('/trusted/redirect');
is($r->{body}, "the host's secret\n", 'faas_accel_headers on: nginx acts '
   . 'on X-Accel-Redirect');
unlike($r->{raw}, qr/X-Accel-/i, 'and passes no X-Accel-* header on');

$r = $t->http_get('/fc/redirect');
is($r->{body}, "function body\n", 'stock fastcgi_pass as the README has '
   . 'it: not acted on either');
unlike($r->{raw}, qr/X-Accel-(Expires|Redirect)/i, '... nor passed on');
like($r->{raw}, qr/X-Accel-Foo: bar/, '... X-Accel-Foo is (stock '
     . 'fastcgi_pass: the comparison)');

is($t->http_get('/secret/key')->{status}, 404,
   'the internal location is not reachable directly');

$t->done;

done_testing;
