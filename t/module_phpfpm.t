#!/usr/bin/perl

# The module's FastCGI client against php-fpm, a server nobody here
# wrote: parameters, forms, bodies, status, repeated headers, redirects
# and kept connections; PHP's warnings, which php-fpm sends many to a
# record, a log line each in nginx's error log, every one that stock
# fastcgi_pass logs.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Digest::MD5 qw(md5_hex);
use POSIX qw(:sys_wait_h);

my ($fpm) = grep { -x } map { "/usr/sbin/php-fpm$_" } ('8.2', '');
($fpm) = glob('/usr/sbin/php-fpm*') unless $fpm;
BAIL_OUT('php-fpm is not installed: make deps installs it') unless $fpm;

my $t = FaasTest->new;
my $p = $t->prefix;
$t->{port} = FaasTest::free_port();

FaasTest::write_file("$p/app.php", <<'EOF');
<?php
$op = $_GET['op'] ?? '';
if ($op === 'echo') {
    header('Content-Type: application/octet-stream');
    echo file_get_contents('php://input');
    exit;
}
if ($op === 'created') {
    http_response_code(201);
    setcookie('a', '1');
    setcookie('b', '2');
    echo "created\n";
    exit;
}
if ($op === 'redirect') {
    header('Location: /elsewhere');
    exit;
}
if ($op === 'warn') {
    ini_set('display_errors', '0');
    ini_set('log_errors', '1');
    ini_set('error_log', '');
    for ($i = 1; $i <= 7; $i++) {
        trigger_error("warning $i of 7 about \"x$i\", " . str_repeat('.', 90)
                      . " end $i", E_USER_WARNING);
    }
    header('Content-Type: text/plain');
    echo "warned\n";
    exit;
}
header('Content-Type: text/plain');
echo "pid=", getmypid(), "\n";
echo "fn=", $_SERVER['FAAS_FUNCTION'] ?? '', "\n";
echo "uri=", $_SERVER['REQUEST_URI'], "\n";
echo "pathinfo=", $_SERVER['PATH_INFO'] ?? '', "\n";
echo "method=", $_SERVER['REQUEST_METHOD'], "\n";
echo "q=", $_GET['q'] ?? '', "\n";
echo "name=", $_POST['name'] ?? '', "\n";
echo "ua=", $_SERVER['HTTP_USER_AGENT'] ?? '', "\n";
EOF
chmod 0644, "$p/app.php";

ok($t->start_php_fpm, 'php-fpm up')
    or diag(FaasTest::read_file("$p/logs/php-fpm.out"));

$t->start_nginx(<<"EOF");
    upstream fpm { server unix:$p/php-fpm.sock; keepalive 2; }

    server {
        listen 127.0.0.1:$t->{port};
        client_max_body_size 0;

        location /php/ {
            faas_route ^/php/(?<name>[a-z]+)(?<path_info>/.*)?\$ \$name;
            faas_param SCRIPT_FILENAME $p/app.php;
            faas_pass fpm;
        }

        location /stock/ {
            fastcgi_pass fpm;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/app.php;
        }
    }
EOF

my $r = $t->http_get('/php/app/more/path?q=hello',
                     headers => "User-Agent: faas-test\r\n");
is($r->{status}, 200, 'php-fpm answers through the module');
like($r->{body}, qr/^fn=app$/m, 'FAAS_FUNCTION reaches PHP');
like($r->{body}, qr/^uri=\/php\/app\/more\/path\?q=hello$/m, 'REQUEST_URI');
like($r->{body}, qr/^pathinfo=\/more\/path$/m, 'PATH_INFO');
like($r->{body}, qr/^q=hello$/m, '$_GET');
like($r->{body}, qr/^ua=faas-test$/m, 'request headers as HTTP_*');

$r = $t->http_post('/php/app', 'name=fpm+test',
                   headers => "Content-Type: application/x-www-form-"
                            . "urlencoded\r\n");
like($r->{body}, qr/^method=POST$/m, 'POST');
like($r->{body}, qr/^name=fpm test$/m, '$_POST');

my $body = join '', map { chr(($_ * 31) % 256) } 1 .. 5_000_000;
$r = $t->http_post('/php/app?op=echo', $body, timeout => 60);
is(md5_hex($r->{body}), md5_hex($body), '5 MB through php://input, '
   . 'byte-exact');

$r = $t->http_get('/php/app?op=created');
is($r->{status}, 201, 'http_response_code(201)');
is(scalar @{ $r->{headers}{'set-cookie'} // [] }, 2, 'two Set-Cookie');

$r = $t->http_get('/php/app?op=redirect');
is($r->{status}, 302, 'Location: from PHP is a redirect');
like(FaasTest::header($r, 'location'), qr{/elsewhere$}, 'to there');

# PHP's warnings: php-fpm sends them joined by "; " in one record, one
# line of stderr; logged whole (the 512 bytes it was cut to held 2 of 7)
$r = $t->http_get('/php/app?op=warn');
is($r->{body}, "warned\n", 'seven warnings, then the answer');
my $ours = sub {
    join '', map { /function "app" stderr: "([^"]*)"/ ? $1 : () }
             split /\n/, $t->error_log;
};
ok(FaasTest::wait_for(sub { $ours->() =~ /end 7 in / }, 5),
   'the last warning is logged');
my @w = $ours->() =~ /warning (\d) of 7 about \\x22x\1\\x22, \.{90} end \1 /g;
is("@w", '1 2 3 4 5 6 7', 'every warning, whole');
$r = $t->http_get('/stock/app?op=warn');
is($r->{body}, "warned\n", 'stock fastcgi_pass: the same answer');
my $stock = join '', $t->error_log =~ /FastCGI sent in stderr: "(.*?)" while/sg;
my @stock = $stock =~ /warning (\d) of 7 about "x\d", \.{90} end \d/g;
is("@stock", '1 2 3 4 5 6 7', 'stock fastcgi_pass logs the seven too');

my (%pids, $bad);
for (1 .. 100) {
    my $x = $t->http_get('/php/app');
    $bad++ unless $x->{status} == 200;
    $pids{$1}++ if $x->{body} =~ /pid=(\d+)/;
}
ok(!$bad, '100 requests, none failed');
ok(keys(%pids) <= 2, 'served by the two static children');

# php-fpm first: its children are ours to stop, not leftovers
$t->stop_php_fpm;

$t->done;
done_testing;
