#!/usr/bin/perl

# runtime = php: PHP scripts served by faas-php, our SAPI on libphp,
# compared with php-fpm serving the same files behind the same nginx
# (same URLs on two servers): the same status, headers (less Date,
# Server, X-Powered-By) and body over a corpus: superglobals dumped as
# JSON, uploads, sessions, redirects, errors, 10 MB of output, exit(),
# fatal errors. Its workers fork from a zygote that started PHP once:
# after scale to zero a worker serves without starting PHP, with
# OPcache's shared memory shared, a random state of its own, none of
# the zygote's descriptors, and each is metered. The hostile twins: a
# script that forks and execs, reads another tenant's files, exhausts
# its memory, never returns, changes an ini value it may not; keys
# that are missing or malformed. Each is answered as documented and
# the runner stays up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use POSIX ();
use Time::HiRes qw(sleep time);

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make, with php8.2-dev and libphp8.2-embed)');
FaasTest::need(FaasTest::php_fpm_binary(), 'php-fpm (make test-deps)');

my $t = FaasTest->new;
my $p = $t->prefix;

# --- the corpus ------------------------------------------------------------

my %www = (
    'dump.php' => <<'EOF',
<?php
$keep = '/^(HTTP_\w+|QUERY_STRING|REQUEST_METHOD|CONTENT_TYPE|CONTENT_LENGTH'
      . '|SCRIPT_NAME|REQUEST_URI|DOCUMENT_URI|PATH_INFO|SERVER_PROTOCOL'
      . '|REQUEST_SCHEME|GATEWAY_INTERFACE|SERVER_SOFTWARE|REMOTE_ADDR'
      . '|SERVER_ADDR|SERVER_PORT|SERVER_NAME|HTTPS|PHP_SELF|PHP_AUTH_USER'
      . '|PHP_AUTH_PW|AUTH_TYPE)$/';
$server = [];
foreach ($_SERVER as $k => $v) {
    if (preg_match($keep, $k)) {
        $server[$k] = $v;
    }
}
ksort($server);
$files = [];
foreach ($_FILES as $k => $f) {
    $files[$k] = [$f['name'], $f['type'], $f['size'], $f['error'],
                  $f['error'] ? '' : hash_file('sha256', $f['tmp_name'])];
}
header('Content-Type: application/json');
echo json_encode(['server' => $server, 'get' => $_GET, 'post' => $_POST,
                  'cookie' => $_COOKIE, 'files' => $files,
                  'input' => hash('sha256', file_get_contents('php://input')),
                  'request' => $_REQUEST,
                  'time' => is_float($_SERVER['REQUEST_TIME_FLOAT'])],
                 JSON_PRETTY_PRINT), "\n";
EOF
    'headers.php' => <<'EOF',
<?php
header('X-One: 1');
header('X-Two: a');
header('X-Two: b', false);
header('Cache-Control: no-store');
http_response_code(201);
setcookie('plain', 'v a l', ['path' => '/', 'httponly' => true]);
echo "made\n";
EOF
    'redirect.php' => "<?php\nheader('Location: /elsewhere?x=1');\n",
    'status.php' => "<?php\nheader('HTTP/1.1 404 Not Here');\necho 'none';\n",
    'teapot.php' => "<?php\nhttp_response_code(418);\necho 'short';\n",
    # a status line, then the code set back: the code's
    'statusback.php' => "<?php\nheader('HTTP/1.1 404 Not Found');\n"
                        . "http_response_code(200);\necho 'back';\n",
    'statusother.php' => "<?php\nheader('HTTP/1.1 404 Not Found');\n"
                        . "http_response_code(410);\necho 'gone';\n",
    'notmodified.php' => "<?php\nhttp_response_code(304);\n",
    # the Content-Type dropped by the status that goes out: a status
    # line's over a code set since, and not the other way round
    'line304.php' => "<?php\nheader('Content-Type: text/plain');\n"
                     . "header('HTTP/1.1 304 X');\nhttp_response_code(404);\n",
    'code304.php' => "<?php\nheader('Content-Type: text/plain');\n"
                     . "header('HTTP/1.1 404 X');\nhttp_response_code(304);\n",
    'emptystatus.php' => "<?php\nheader('Status:');\necho 'empty';\n",
    'statushdr.php' => "<?php\nheader('Status: 404 Not Found');\necho 'gone';\n",
    'flushlate.php' => "<?php\necho \"a\\n\";\nflush();\nhttp_response_code(404);\n"
                       . "header('X-Late: 1');\necho headers_sent() ? 'sent' : 'not sent';\n",
    'flushfatal.php' => "<?php\necho \"a\\n\";\nflush();\nno_such_function();\n",
    'sessdir.php' => "<?php\necho session_save_path(), \"\\n\";\n",
    'big.php' => <<'EOF',
<?php
header('Content-Type: application/octet-stream');
$block = str_repeat(implode('', range('a', 'z')) . "\n", 2521);
for ($i = 0; $i < 160; $i++) {
    echo $block;
}
EOF
    'flush.php' => <<'EOF',
<?php
header('Content-Type: text/plain');
for ($i = 0; $i < 5; $i++) {
    echo "tick $i\n";
    if (ob_get_level()) {
        ob_flush();
    }
    flush();
}
EOF
    'exit.php' => "<?php\necho 'before ';\nexit(3);\necho 'after';\n",
    'fatal.php' => "<?php\necho 'begun ';\nno_such_function();\n",
    'fatal-quiet.php' => "<?php\nno_such_function();\n",
    'throw.php' => "<?php\nthrow new RuntimeException('thrown');\n",
    'session.php' => <<'EOF',
<?php
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
header('Content-Type: text/plain');
echo "visit {$_SESSION['n']}\n";
EOF
    'finish.php' => <<'EOF',
<?php
echo "answered\n";
fastcgi_finish_request();
echo "never seen\n";
usleep(300000);
file_put_contents(sys_get_temp_dir() . '/after-finish', 'done');
EOF
    'json.php' => <<'EOF',
<?php
$in = json_decode(file_get_contents('php://input'), true);
header('Content-Type: application/json');
echo json_encode(['sum' => array_sum($in['n'] ?? []),
                  'method' => $_SERVER['REQUEST_METHOD']]), "\n";
EOF
    'sub/index.php' => "<?php\necho 'the folder index: ', \$_SERVER['SCRIPT_NAME'], \"\\n\";\n",
    'ob.php' => <<'EOF',
<?php
ob_start();
echo "dropped";
ob_end_clean();
ob_start(function ($s) { return strtoupper($s); });
echo "shouted\n";
EOF
);

# --- the functions -------------------------------------------------------

my $who = <<'EOF';
<?php
$st = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
$fds = [];
foreach (scandir('/proc/self/fd') as $fd) {
    if (ctype_digit($fd)) {
        $to = @readlink("/proc/self/fd/$fd");
        if ($to !== false && $to !== '/proc/self/fd' && strpos($to, 'proc') === false) {
            $fds[] = "$fd:$to";
        }
    }
}
header('Content-Type: application/json');
echo json_encode([
    'pid' => getmypid(),
    'rand' => mt_rand(),
    'opcache' => $st ? $st['opcache_enabled'] : false,
    'opcache_start' => $st ? $st['opcache_statistics']['start_time'] : 0,
    'cached' => $st ? $st['opcache_statistics']['num_cached_scripts'] : 0,
    'fds' => $fds,
    'uid' => posix_getuid(),
    'path_info' => $_SERVER['PATH_INFO'] ?? null,
    'script' => $_SERVER['SCRIPT_NAME'],
    'sapi' => PHP_SAPI,
    'memory_limit' => ini_get('memory_limit'),
    'max_execution_time' => ini_get('max_execution_time'),
]), "\n";
EOF

# runtime = php alone: its index.php runs every request
$t->function('alone', "runtime = php\n",
             'index.php' => "<?php\necho 'alone ', \$_SERVER['PATH_INFO'], \"\\n\";\n",
             'other.php' => "<?php\necho \"other\\n\";\n");
# index names that script (it is no document_root's index here)
$t->function('indexed', "runtime = php\nindex = app.php\n",
             'app.php' => "<?php\necho \"app\\n\";\n");
# a front controller: one script for every path
$t->function('front', "runtime = php\nscript = who.php\nidle_timeout = 1s\n"
                      . "max_instances = 2\ntimeout = 7s\nmemory = 256M\n",
             'who.php' => $who);
# kept warm from the start: its workers wait for its zygote, none
# starts PHP itself
$t->function('warm', "runtime = php\nscript = who.php\nmin_instances = 3\n"
                     . "max_instances = 3\n", 'who.php' => $who);
# no queue: the first request waits for the zygote as for a worker
$t->function('noqueue', "runtime = php\nscript = who.php\nqueue = 0\n"
                        . "max_instances = 1\n", 'who.php' => $who);
# no queue, and a tenant allowed one worker: what waits for the zygote
# is what one worker may take
$t->function('tq', "runtime = php\nscript = who.php\nqueue = 0\n"
                   . "tenant = tq\n", 'who.php' => $who);
# under no isolation: its zygote is the runner's own child
$t->function('plain', "runtime = php\nscript = who.php\nidle_timeout = 1s\n"
                      . "isolation = none\n", 'who.php' => $who);
# ini values the code may not change
$t->function('locked', "runtime = php\nscript = l.php\n"
                       . "php.memory_limit = 48M\nphp.precision = 5\n",
             'l.php' => "<?php\nvar_dump(ini_set('memory_limit', '1G'));\n"
                 . "echo ini_get('memory_limit'), ' ', 1/3, \"\\n\";\n");
# its body as it came: no more than CONTENT_LENGTH of it, as php-fpm
my $raw = "<?php\necho '[', file_get_contents('php://input'), \"]\\n\";\n";
$t->function('raw', "runtime = php\nscript = raw.php\n", 'raw.php' => $raw);
# an ini name PHP does not have: no zygote, no worker, told
$t->function('typo', "runtime = php\nscript = t.php\nphp.no_such_thing = 1\n",
             't.php' => "<?php echo 'never';\n");
# a secret of www-data's; a thief of another user's
$t->function('victim', "runtime = php\nscript = v.php\nuser = www-data\n"
                       . "group = www-data\n",
             'v.php' => "<?php\necho \@file_get_contents(__DIR__ . '/secret')"
                 . " === false ? 'denied' : 'read', \"\\n\";\n",
             'secret' => "the victim's\n");
my $secret = $t->functions_dir . '/victim/secret';
my (undef, undef, $wuid, $wgid) = getpwnam('www-data');
chown $wuid, $wgid, $secret;
chmod 0600, $secret;
$t->function('thief', "runtime = php\nscript = t.php\n",
             't.php' => "<?php\necho \@file_get_contents('$secret')"
                 . " === false ? 'denied' : 'read', \"\\n\";\n");
# its script found once a second: removed, then a FIFO in its place
my $gdir = $t->function('gone', "runtime = php\nscript = g.php\n"
                                . "timeout = 30s\n",
                        'g.php' => "<?php\necho \"here\\n\";\n");
# forks and execs, leaving a process behind; exhausts its memory; never
# returns
$t->function('hostile', "runtime = php\nscript = h.php\ntimeout = 2s\n"
                        . "idle_timeout = 1s\nmemory = 256M\n",
             'h.php' => <<'EOF');
<?php
switch ($_SERVER['QUERY_STRING']) {
case 'exec':
    echo exec('id -u'), ' ', exec('sleep 61.4321 > /dev/null 2>&1 & echo started'), "\n";
    break;
case 'hog':
    $a = [];
    while (true) {
        $a[] = str_repeat('x', 1 << 20);
    }
case 'hog-unlimited':
    ini_set('memory_limit', '-1');
    $a = [];
    while (true) {
        $a[] = str_repeat('x', 1 << 20);
    }
case 'spin':
    set_time_limit(0);
    while (true) {
    }
case 'sleep':
    sleep(3600);

default:
    echo "fine\n";
}
EOF

# many scripts compiled at once by its workers, OPcache's cache reset
# now and then: one shared memory, its lock held by each
my %many = ('index.php' => <<'EOF');
<?php
mt_srand(getmypid() ^ (int) (microtime(true) * 1e6));
$sum = 0;
for ($i = 0; $i < 30; $i++) {
    $n = mt_rand(0, 199);
    include_once __DIR__ . "/lib/f$n.php";
    $sum += call_user_func("f$n");
}
if (mt_rand(0, 40) == 0) {
    opcache_reset();
}
echo "sum ok\n";
EOF
$many{"lib/f$_.php"} = "<?php\nfunction f$_() {\n    \$a = [" . join(', ', map { "'k$_' => $_" } 1 .. 40) . "];\n    return count(\$a);\n}\n" for 0 .. 199;
$t->function('many', "runtime = php\nscript = index.php\nmax_instances = 3\n"
                     . "idle_timeout = 30s\n", %many);

# 1 s to its response, then works on after it (fastcgi_finish_request()):
# 3 s of CPU;
# the client answered at once, the worker busy
# to the runner until the script ends, the work billed in meter_log
$t->function('after', "runtime = php\nscript = a.php\ntimeout = 20s\n"
                      . "max_instances = 2\nidle_timeout = 60s\n",
             'a.php' => <<'EOF');
<?php
if ($_SERVER['QUERY_STRING'] == 'work') {
    header('Status: 201 Created');
    echo "answered\n";
    usleep(1000000);
    fastcgi_finish_request();
    echo "never seen\n";
    for ($t = microtime(true); microtime(true) - $t < 3;) {
    }
    exit;
}
echo "quick ", getmypid(), "\n";
EOF

# spins on after its response, its time limit lifted: killed at the
# function's timeout
$t->function('finisher', "runtime = php\nscript = f.php\ntimeout = 2s\n"
                         . "idle_timeout = 60s\n",
             'f.php' => "<?php\nif (\$_SERVER['QUERY_STRING'] == 'spin') {\n"
                 . "    echo \"answered\\n\";\n    fastcgi_finish_request();\n"
                 . "    set_time_limit(0);\n    while (true) {\n    }\n}\n"
                 . "echo \"fine\\n\";\n");

my $fdir = $t->function('site', "runtime = php\ndocument_root = www\n"
                                . "idle_timeout = 1s\nmax_instances = 2\n",
                        map { ("www/$_" => $www{$_}) } keys %www);
# php-fpm's twin: the same files, readable by www-data
my $fpm_root = "$p/fpm-www";
mkdir $fpm_root;
chmod 0755, $fpm_root;
for my $f (keys %www) {
    mkdir "$fpm_root/sub" if $f =~ m{^sub/};
    FaasTest::write_file("$fpm_root/$f", $www{$f});
}
system('chmod', '-R', 'a+rX', $fpm_root);

ok($t->start_php_fpm, 'php-fpm is up')
    or diag(FaasTest::read_file("$p/logs/php-fpm.out"));

my $rmeter = "$p/logs/runner-meter.log";
$t->start_runner(conf => "prototype_idle_timeout = 30s\nlimit_isolation = none\n"
                         . "meter_log = $rmeter\ntenant.tq.max_instances = 1\n");

my $sock = $t->socket_path;
my $faas_port = $t->port;
my $fpm_port = FaasTest::free_port();
my $mlog = "$p/logs/meter.log";

$t->start_nginx(FaasTest::meter_log_format() . <<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }

    server {
        listen 127.0.0.1:$faas_port;
        client_max_body_size 32m;

        location / {
            faas_function site;
            faas_pass runner;
            access_log $mlog faas_meter;
        }

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)(?<path_info>/.*)?\$ \$fname;
            faas_pass runner;
            access_log $mlog faas_meter;
        }
    }

@{[ $t->php_fpm_server($fpm_port, $fpm_root,
                       server => 'client_max_body_size 32m;') ]}
EOF

# --- the same bytes as php-fpm ------------------------------------------

my %jar = ($faas_port => {}, $fpm_port => {});

sub request {
    my ($port, $method, $uri, %o) = @_;
    my $jar = $jar{$port};
    my $h = "Host: localhost\r\nUser-Agent: faas-test\r\n" . ($o{headers} // '');
    $h .= 'Cookie: ' . join('; ', map { "$_=$jar->{$_}" } sort keys %$jar)
          . "\r\n" if %$jar;
    my $req = "$method $uri HTTP/1.1\r\nConnection: close\r\n$h";
    $req .= defined $o{body}
          ? 'Content-Type: '
            . ($o{type} // 'application/x-www-form-urlencoded') . "\r\n"
            . 'Content-Length: ' . length($o{body}) . "\r\n\r\n$o{body}"
          : "\r\n";
    local $t->{port} = $port;
    my $r = $t->http($req, timeout => 60)
        // { status => 0, body => '', headers => {} };
    for (@{ $r->{headers}{'set-cookie'} // [] }) {
        $jar->{$1} = $2 if /^([^=;\s]+)=([^;]*)/;
    }
    return $r;
}

# what differs by design: the session's id, the ports of the servers,
# the two roots
sub norm {
    my ($s) = @_;
    $s =~ s/PHPSESSID=[^;\s]+/PHPSESSID=ID/g;
    $s =~ s/\b$faas_port\b|\b$fpm_port\b/PORT/g;
    $s =~ s{\Q$fdir\E/www|\Q$fpm_root\E}{ROOT}g;
    return $s;
}

sub heads {
    my ($r) = @_;
    my @h = ($r->{status_line} // '');
    for my $k (sort keys %{ $r->{headers} }) {
        next if $k =~ /^(date|server|x-powered-by|connection|transfer-encoding)$/;
        push @h, map { "$k: $_" } @{ $r->{headers}{$k} };
    }
    return norm(join "\n", @h);
}

sub both {
    my ($what, $method, $uri, %o) = @_;
    my $a = request($faas_port, $method, $uri, %o);
    my $b = request($fpm_port, $method, $uri, %o);
    is($a->{status}, $b->{status}, "$what: status $b->{status} as php-fpm");
    is(heads($a), heads($b), "$what: the same headers");
    my $same = norm($a->{body}) eq norm($b->{body});
    ok($same, "$what: the same " . length($b->{body}) . ' bytes')
        or diag("faas: " . substr($a->{body}, 0, 1500)
                . "\nfpm:  " . substr($b->{body}, 0, 1500));
    return ($a, $b);
}

my $upload = join '', map { chr(($_ * 7) % 256) } 0 .. 300_000;
my $boundary = 'faasBoundary7MA4YWxk';
my $multipart = join '',
    "--$boundary\r\n",
    "Content-Disposition: form-data; name=\"field\"\r\n\r\nvalue one\r\n",
    "--$boundary\r\n",
    "Content-Disposition: form-data; name=\"blob\"; filename=\"b.bin\"\r\n",
    "Content-Type: application/octet-stream\r\n\r\n$upload\r\n",
    "--$boundary--\r\n";

my ($a) = both('GET with a query', 'GET', '/dump.php?a=1&b[]=x&b[]=y&c=%C3%A9');
my $d = eval { decode_json($a->{body}) } // {};
is($d->{get}{c}, "\x{e9}", '... the query decoded');
both('PATH_INFO', 'GET', '/dump.php/extra/path?q=1');
both('a form POST', 'POST', '/dump.php', body => 'x=1&y=caf%C3%A9&x=2');
both('JSON in php://input', 'POST', '/json.php',
     body => '{"n":[1,2,3,4]}', type => 'application/json');
($a) = both('an upload', 'POST', '/dump.php', body => $multipart,
            type => "multipart/form-data; boundary=$boundary");
$d = eval { decode_json($a->{body}) } // {};
is_deeply($d->{files}{blob}, [ 'b.bin', 'application/octet-stream',
                               length $upload, 0, sha256_hex($upload) ],
          '... the file whole in $_FILES');
both('cookies and headers', 'GET', '/dump.php',
     headers => "Cookie: a=1; b=two\r\nX-Custom: yes\r\nAccept: */*\r\n");
both('basic auth', 'GET', '/dump.php',
     headers => "Authorization: Basic dXNlcjpwYXNz\r\n");
both('a HEAD', 'HEAD', '/dump.php');
both('DELETE', 'DELETE', '/dump.php?x=1');
both('headers, 201, a cookie', 'GET', '/headers.php');
($a) = both('a redirect', 'GET', '/redirect.php');
is($a->{status}, 302, '... Location: 302');
both('a status line', 'GET', '/status.php');
both('an unusual status', 'GET', '/teapot.php');
both('a status line, then http_response_code(200)', 'GET', '/statusback.php');
both('a status line, then another code', 'GET', '/statusother.php');
both('304', 'GET', '/notmodified.php');
both('a 304 status line over a code 404', 'GET', '/line304.php');
both('a 404 status line over a code 304', 'GET', '/code304.php');
both('an empty Status header', 'GET', '/emptystatus.php');
($a) = both('a Status: header of its own', 'GET', '/statushdr.php');
is($a->{status}, 404, '... which is the status');
($a) = both('10 MB', 'GET', '/big.php');
is(length $a->{body}, 160 * 2521 * 27, '... all of it');
both('flushed blocks', 'GET', '/flush.php');
both('flush() with the output still buffered, then headers', 'GET',
     '/flushlate.php');
both('flush(), then a fatal error', 'GET', '/flushfatal.php');
both('exit()', 'GET', '/exit.php');
($a) = both('a fatal error after output', 'GET', '/fatal.php');
both('a fatal error', 'GET', '/fatal-quiet.php');
($a) = both('an uncaught exception', 'GET', '/throw.php');
is($a->{status}, 500, '... 500');
unlike($a->{body}, qr/thrown/, '... never shown to the client');
both('output buffers', 'GET', '/ob.php');
both('a folder\'s index', 'GET', '/sub/');
both('a session', 'GET', '/session.php');
($a) = both('the session again', 'GET', '/session.php');
is($a->{body}, "visit 2\n", '... it was kept');
my @sd = stat '/var/lib/php';
like(request($faas_port, 'GET', '/sessdir.php')->{body},
     (@sd && !$sd[4] && !($sd[2] & 022))
     ? qr{^/var/lib/php/faas-sessions/\d+\n\z} : qr{^/tmp\n\z},
     '... in a folder of the user\'s own the runner made (else the '
     . 'function\'s own /tmp)');

my $t0 = time;
($a) = both('fastcgi_finish_request()', 'GET', '/finish.php');
like($a->{body}, qr/^answered\n\z/, '... what came before it only');

like($t->runner_log, qr/no_such_function|thrown/,
     'the errors are in the function\'s log')
    or diag(substr($t->runner_log, -2000));

# --- the zygote ---------------------------------------------------------

sub ppid_of {
    my ($pid) = @_;
    my $s = FaasTest::read_file("/proc/$pid/stat") // '';
    return $s =~ /^\d+ \(.*\) \S+ (\d+)/s ? $1 : -1;
}

sub get_json {
    my ($uri) = @_;
    my $r = $t->http_get($uri);
    return ($r, eval { decode_json($r->{body}) } // {});
}

is($t->http_get('/fn/alone')->{body}, "alone \n",
   'runtime = php alone: its index.php');
is($t->http_get('/fn/alone/other.php')->{body}, "alone /other.php\n",
   '... for every path (a front controller)');
is($t->http_get('/fn/indexed/x')->{body}, "app\n",
   'runtime = php with index = app.php: app.php for every path');

my ($r, $j) = get_json('/fn/front/a/b?x=1');
is($r->{status}, 200, 'a front controller: 200');
is($j->{path_info}, '/a/b', '... its PATH_INFO');
is($j->{sapi}, 'cgi-fcgi', '... PHP_SAPI');
ok($j->{opcache}, '... OPcache on');
is($j->{max_execution_time}, 7, 'max_execution_time from its timeout');
is($j->{memory_limit}, (256 - 32 - 112) . 'M',
   'memory_limit from its memory: what PHP and OPcache leave');
isnt($j->{uid}, 0, '... not root');

ok($t->wait_log(qr/zygote (\d+) of "front" ready/, 30), 'its zygote is ready');
my ($zygote) = $t->runner_log =~ /zygote (\d+) of "front" ready/;
is(ppid_of($zygote), $t->runner_pid, "the zygote is the runner's child");

my (@rand, @start);
my $front_php = $t->functions_dir . '/front/who.php';
for my $round (1, 2) {
    ok(FaasTest::wait_for(sub { !grep { $_ != $zygote } $t->workers('front') },
                          15), "($round) scaled to zero");
    ($r, $j) = get_json('/fn/front/');
    is($r->{status}, 200, "($round) after scale to zero: 200");
    my @w = grep { $_ != $zygote } $t->workers('front');
    is(scalar @w, 1, "($round) one worker");
    is(ppid_of($w[0]), $t->runner_pid,
       "($round) the worker is the runner's child (CLONE_PARENT)");
    ok($j->{cached} >= 1, "($round) OPcache already holds the script: "
       . "its memory is the zygote's, shared");
    # PHP's own (OPcache's lock file) is kept, as under php-fpm
    my @odd = grep { !m{^[0-2]:} && !m{^\d+:socket:}
                     && !m{^\d+:/tmp/\.ZendSem\.\w+ \(deleted\)$}
                     && !m{^\d+:\Q$front_php\E$}
                     && !m{^\d+:/dev/null$} && !m{^\d+:pipe:} }
              @{ $j->{fds} };
    ok(!@odd && @{ $j->{fds} } <= 6,
       "($round) nothing of the zygote's is the worker's: its 0, 1, 2 "
       . "and sockets") or diag(join ' ', @{ $j->{fds} });
    push @rand, $j->{rand};
    push @start, $j->{opcache_start};
}
isnt($rand[0], $rand[1], 'each fork has a random state of its own');
is($start[0], $start[1], 'one OPcache for both: started by the zygote');

($r, $j) = get_json('/fn/plain/');
is($r->{status}, 200, 'isolation = none: 200');
ok($t->wait_log(qr/zygote \d+ of "plain" ready/, 30),
   'isolation = none: a zygote too');

my @metered = grep { m{function=front } && / cold=1 / }
              split /\n/, FaasTest::read_file($mlog);
cmp_ok(scalar @metered, '>=', 2, 'the first requests after scale to zero are '
       . 'metered cold');
ok(!grep({ !/ cpu=\d[\d.]* memory=[1-9]\d* / } @metered),
   'with their CPU and memory') or diag(join "\n", @metered);

# the zygote killed: served, then a new one
kill 'KILL', $zygote;
ok($t->wait_log(qr/prototype $zygote of "front" exited/, 10),
   'a killed zygote is noticed');
ok(FaasTest::wait_for(sub { !$t->workers('front') }, 15),
   'front: scaled to zero');
($r, $j) = get_json('/fn/front/');
is($r->{status}, 200, 'served after its zygote was killed');
ok($t->wait_log(qr/zygote (?!$zygote)\d+ of "front" ready/, 30),
   'a new zygote is made');
ok(kill(0, $t->runner_pid), 'the runner is up');

# min_instances at load: forks of the zygote, not three PHP starts (a
# cold faas-php worker has some 8 MiB of its own, a fork under 1)
sub private_kb {
    my $s = FaasTest::read_file("/proc/$_[0]/smaps_rollup") // return -1;
    my $kb = 0;
    $kb += $1 while $s =~ /^Private_(?:Clean|Dirty):\s+(\d+)/mg;
    return $kb;
}
ok($t->wait_log(qr/zygote (\d+) of "warm" ready/, 30), 'warm: its zygote');
my ($wz) = $t->runner_log =~ /zygote (\d+) of "warm" ready/;
my @ww;
ok(FaasTest::wait_for(sub {
    @ww = grep { $_ != $wz } $t->workers('warm');
    @ww >= 3 }, 15), 'min_instances = 3: three workers at load');
my @big = grep { private_kb($_) > 4096 } @ww;
ok(!@big, '... each a fork of the zygote (private pages: '
   . join(', ', map { private_kb($_) . ' kB' } @ww) . ')');
is(() = $t->runner_log =~ /zygote \d+ of "warm" started/g, 1,
   '... one zygote started');
($r, $j) = get_json('/fn/warm/');
ok($r->{status} == 200 && $j->{cached} >= 1, '... and they serve');

($r, $j) = get_json('/fn/noqueue/');
is($r->{status}, 200, 'queue = 0: the first request waits for the zygote '
   . 'starting, as for a worker starting (not a 503)');

{
    my @kids;
    for (1 .. 4) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $rd;
            my $x = eval { $t->http_get('/fn/tq/', timeout => 30) };
            print $wr ($x ? $x->{status} : 0), "\n";
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    my @st = map { my $rd = $_->[1]; my $s = <$rd> // 0; waitpid($_->[0], 0);
                   chomp $s; $s } @kids;
    my $n503 = grep { $_ == 503 } @st;
    ok(!grep({ $_ != 200 && $_ != 503 } @st) && $n503 >= 1
       && grep({ $_ == 200 } @st) >= 1,
       'queue = 0, its tenant allowed one worker, four at once while the '
       . "zygote starts: one waits, the rest 503 (@st)");
}

# workers forked from the zygote compile and cache at once: their
# OPcache lock is the zygote's, each its own holder
$t->http_get('/fn/many/');
ok($t->wait_log(qr/zygote \d+ of "many" ready/, 30), 'many: its zygote');
my @loads = map { $t->load_start('/fn/many/', 5) } 1 .. 4;
my @res = map { FaasTest::load_result($_) } @loads;
ok(!grep({ !/^200=\d+$/ } @res), 'OPcache shared by forked workers, four '
   . 'clients at once: every answer 200')
    or diag(join(' | ', @res), "\n",
            grep { /"many"|PHP|many\// } split /^/, $t->runner_log
                . (FaasTest::read_file("$p/logs/error.log") // ''));
ok($t->runner_log !~ /of "many" exited on signal/, '... no worker crashed');

# --- hostile --------------------------------------------------------------

$r = $t->http_get('/fn/locked/');
is($r->{body}, "bool(false)\n48M 0.33333\n",
   'php.NAME: set, and the code cannot change it');

$r = $t->http_get('/fn/typo/');
is($r->{status}, 502, 'an ini name PHP does not have: 502');
ok($t->wait_log(qr/php\.no_such_thing: PHP has no such setting/, 10),
   '... and the log says which');

is($t->http_get('/fn/victim/')->{body}, "read\n", 'a function reads its own');
is($t->http_get('/fn/thief/')->{body}, "denied\n",
   'another tenant\'s function cannot');

$r = $t->http_get('/fn/hostile/?exec');
like($r->{body}, qr/^[1-9]\d* started\n\z/, 'exec(): as its user');
sub leftover {
    grep { FaasTest::read_file("/proc/$_/cmdline") =~ /^sleep\x0061\.4321/ }
         map { m{/proc/(\d+)/} ? $1 : () } glob '/proc/[0-9]*/cmdline';
}
ok(leftover(), '... its process is running');
ok(FaasTest::wait_for(sub { !$t->workers('hostile') && !leftover() }, 15),
   '... and gone with its worker');

$r = $t->http_get('/fn/hostile/?hog');
is($r->{status}, 500, 'memory_limit reached: 500');
$r = $t->http_get('/fn/hostile/?hog-unlimited', timeout => 20);
like($r->{status}, qr/^50[02]$/, 'memory_limit lifted, the address space '
     . "limit reached: $r->{status}");
is($t->http_get('/fn/hostile/')->{body}, "fine\n", '... then served again');

my $t1 = time;
$r = $t->http_get('/fn/hostile/?spin', timeout => 20);
is($r->{status}, 504, 'a loop past its timeout: 504');
$r = $t->http_get('/fn/hostile/?sleep', timeout => 20);
is($r->{status}, 504, 'a sleep past its timeout: 504');
is($t->http_get('/fn/hostile/')->{body}, "fine\n", '... then served again');

# faas-php looks at its script (as the worker's user, a file) once a
# second, not at every request: a script removed is a 404 within about
# that, and a FIFO put in its place is a 404 too, never a worker held
# until its timeout (30 s)
is($t->http_get('/fn/gone/')->{body}, "here\n", 'a script served');
unlink "$gdir/g.php" or die "$gdir/g.php: $!";
my ($gone, $gone_t) = (0, time);
FaasTest::wait_for(sub {
    $gone = $t->http_get('/fn/gone/', timeout => 40)->{status};
    $gone == 404;
}, 10);
is($gone, 404, '... removed: 404, "File not found."');
cmp_ok(time - $gone_t, '<', 5, '... within seconds, not at a reload');
POSIX::mkfifo("$gdir/g.php", 0644) or die "mkfifo: $!";
$gone_t = time;
$r = $t->http_get('/fn/gone/', timeout => 40);
is($r->{status}, 404, 'a FIFO for a script: 404');
cmp_ok(time - $gone_t, '<', 10, '... at once, not when its timeout ends');
unlink "$gdir/g.php";
FaasTest::write_file("$gdir/g.php", "<?php\necho \"back\\n\";\n");
chmod 0644, "$gdir/g.php";
ok(FaasTest::wait_for(sub {
    ($t->http_get('/fn/gone/')->{body} // '') eq "back\n" }, 10),
   '... and a file again: served');

# --- work after fastcgi_finish_request() ------------------------------

sub meter_lines {
    my ($file, $fn) = @_;
    return grep { /function=\Q$fn\E / }
           split /\n/, (FaasTest::read_file($file) // '');
}

like($t->http_get('/fn/after/')->{body}, qr/^quick \d+$/, 'after: warm');
my $n_acc = () = meter_lines($mlog, 'after');
$t0 = time;
$r = $t->http_get('/fn/after/?work', timeout => 20);
my $answered = time - $t0;
is($r->{status}, 201, 'fastcgi_finish_request(): the status said before it');
is($r->{body}, "answered\n", '... the body before it, nothing after');
cmp_ok($answered, '<', 2.5, "... after its 1 s, not after the script's 3 s "
       . sprintf('of work (%.2f s)', $answered));
$t0 = time;
my $q = $t->http_get('/fn/after/', timeout => 20);
my $quick = time - $t0;
like($q->{body}, qr/^quick \d+$/, 'the next request meanwhile');
cmp_ok($quick, '<', 2, '... by another worker, not queued behind the '
       . sprintf('work (%.2f s)', $quick));
ok(FaasTest::wait_for(sub {
       grep { /trigger=after_response/ } meter_lines($rmeter, 'after') }, 20),
   'the work after the response is metered in meter_log')
    or diag(FaasTest::read_file($rmeter) // 'no meter_log');
my ($line) = grep { /trigger=after_response/ } meter_lines($rmeter, 'after');
$line //= '';
like($line, qr/ status=201 outcome=ok /, '... with the status its client had, ok');
my ($cpu) = $line =~ / cpu=([\d.]+)/;
cmp_ok($cpu // 0, '>', 1000, '... and its CPU (3 s of work): ' . ($cpu // '-'));
my ($dur) = $line =~ / duration=([\d.]+)/;
cmp_ok($dur // 0, '>=', 2900, '... and its duration');
cmp_ok($dur // 1e9, '<', 3900, '... from the response on, not the 1 s '
       . 'before it');
my @acc = meter_lines($mlog, 'after');
is(scalar(@acc) - $n_acc, 2, 'nginx metered the two requests');
my ($acc_work) = grep { / status=201 / } @acc;
my ($acc_dur) = ($acc_work // '') =~ / duration=([\d.]+)/;
cmp_ok($acc_dur // 1e9, '<', 2500, "... the answered one's duration: to "
       . 'its response (' . ($acc_dur // '-') . ' ms)');
cmp_ok($acc_dur // 0, '>=', 900, '... its 1 s included');
my $bin = $t->runner_bin_name;
my $rep = eval { JSON::PP::decode_json(
              scalar `$bin meter --format json $mlog $rmeter`) };
my ($g) = grep { $_->{name} eq 'after' } @{ $rep->{groups} // [] };
is($g->{invocations}, scalar @acc, 'fcgi-runner meter: the work counts no '
   . 'invocation of its own');
cmp_ok($g->{cpu_s} // 0, '>', 1, '... its CPU is billed')
    or diag(explain($g));

# the runner's status counts each invocation once, and whole
my $st = eval { JSON::PP::decode_json(scalar
             `$bin status --listen unix:$sock --format json 2>/dev/null`) };
my ($fs) = grep { $_->{name} eq 'after' } @{ $st->{functions} // [] };
is($fs->{invocations}{ok}, scalar @acc, 'the status: one invocation a '
   . 'request');
cmp_ok($fs->{duration}{sum_seconds} // 0, '>=', 3.9, '... its duration '
       . 'whole: the 1 s to the response and the work after it')
    or diag(explain($fs));

# its time limit lifted, it spins on: killed at the function's timeout,
# the slot freed
$r = $t->http_get('/fn/finisher/?spin', timeout => 20);
is($r->{body}, "answered\n", 'fastcgi_finish_request() then a loop: answered');
my ($zf) = $t->runner_log =~ /zygote (\d+) of "finisher"/;
my @spinner = grep { $_ != ($zf // 0) } $t->workers('finisher');
ok(@spinner && FaasTest::wait_for(sub { !grep { kill 0, $_ } @spinner }, 10),
   '... its worker killed at the timeout');
ok(FaasTest::wait_for(sub {
       grep { / outcome=timeout .*trigger=after_response/ }
       meter_lines($rmeter, 'finisher') }, 10),
   '... metered in meter_log as a timeout')
    or diag(FaasTest::read_file($rmeter) // 'no meter_log');
is($t->http_get('/fn/finisher/')->{body}, "fine\n", '... then served again');
# the report counts the fault apart: its client had an answer
$rep = eval { JSON::PP::decode_json(
           scalar `$bin meter --format json $mlog $rmeter`) };
my %faults = map { ($_->{name} => $_->{after_response_faults}) }
             @{ $rep->{groups} // [] };
is($faults{finisher}, 1, 'fcgi-runner meter: the timeout after the response '
   . 'is an after_response fault')
    or diag(explain($rep));
is($faults{after}, 0, '... none for the work after a response that ended ok');
my ($csv_head, @csv) = split /\n/, scalar `$bin meter --format csv $rmeter`;
my ($csv_fin) = grep { /^finisher,/ } @csv;
like($csv_head, qr/,after_response_faults$/, '... the CSV\'s last column');
like($csv_fin // '', qr/,1$/, '... 1 for the function');
like(scalar `$bin meter $rmeter`,
     qr/^finisher: 1 fault\(s\) after the response/m, '... and the table says it');

# --- faas-php on its own: records a runner would never send -------------

{
    my $fsock = "$p/faas-php.sock";
    # its sessions' folder as root's (what a runner started: the test's)
    my $sess = "/var/lib/php/sessions/faas-$<";
    my $had = -e $sess;
    my $fpid = fork // die "fork: $!";
    if ($fpid == 0) {
        open STDOUT, '>>', "$p/logs/faas-php.out";
        open STDERR, '>>', "$p/logs/faas-php.out";
        exec 'spawn-fcgi', '-n', '-s', $fsock, '-M', '0600', '--',
             "$FaasTest::BUILD/faas-php" or POSIX::_exit(127);
    }
    ok(FaasTest::wait_for(sub { -S $fsock }, 10), 'faas-php alone');
    local $t->{socket} = $fsock;

    # the same name asked 3,000 times: answered once
    my $names = FaasTest::fcgi_params(('FCGI_MAX_CONNS', '') x 3000);
    my $s = $t->fcgi_connect;
    syswrite($s, join '', map { FaasTest::fcgi_record(
        FaasTest::FCGI_GET_VALUES(), 0, $_) } unpack('(a65535)*', $names));
    my $r = FaasTest::fcgi_read($s, until_end => 0, timeout => 3);
    my @v = grep { $_->[0] == 10 } @{ $r->{records} };
    is(scalar @v, 1, 'GET_VALUES with a name 3,000 times: one answer');
    is($v[0][2], FaasTest::fcgi_params(FCGI_MAX_CONNS => 1),
       '... each name once') if @v;
    close $s;

    # then a request on a new connection: it is alive
    $s = $t->fcgi_connect;
    $r = FaasTest::fcgi_exchange($s, FaasTest::fcgi_request_bytes(
        params => [ REQUEST_METHOD => 'GET',
                    SCRIPT_FILENAME => "$fdir/www/exit.php" ]));
    like($r->{stdout}, qr/\r\n\r\nbefore \z/, '... and serves after it');
    close $s;

    kill 'TERM', $fpid;
    waitpid($fpid, 0);
    rmdir $sess if !$had;
}

# --- keys ---------------------------------------------------------------

# a client (not nginx) that sends more body than its CONTENT_LENGTH
FaasTest::write_file("$fpm_root/raw.php", $raw);
chmod 0644, "$fpm_root/raw.php";
my $over = [REQUEST_METHOD => 'POST', CONTENT_LENGTH => 3,
            CONTENT_TYPE => 'application/octet-stream'];
$r = $t->fcgi_call('raw', params => $over, stdin => 'abcdef');
my $fpm = IO::Socket::UNIX->new(Peer => "$p/php-fpm.sock",
                                Type => Socket::SOCK_STREAM()) or die "fpm: $!";
my $fr = FaasTest::fcgi_exchange($fpm, FaasTest::fcgi_request_bytes(
    params => [@$over, SCRIPT_FILENAME => "$fpm_root/raw.php",
               SERVER_PROTOCOL => 'HTTP/1.1', GATEWAY_INTERFACE => 'CGI/1.1'],
    stdin => 'abcdef', keep => 0), timeout => 10);
like($fr->{stdout} // '', qr/\r\n\r\n\[abc\]\n\z/,
     'php-fpm: php://input is CONTENT_LENGTH bytes of a longer body');
like($r->{stdout} // '', qr/\r\n\r\n\[abc\]\n\z/, '... runtime = php the same');

my $bad = FaasTest->new;
$bad->function('none', "runtime = php\n");
$bad->function('both', "runtime = php\nscript = a.php\ndocument_root = .\n",
               'a.php' => '');
$bad->function('exec', "runtime = php\nscript = a.php\nexec = php-cgi\n",
               'a.php' => '');
$bad->function('app', "runtime = php\nscript = a.php\napp = x:y\n",
               'a.php' => '');
$bad->function('quote', "runtime = php\nscript = a.php\nphp.x = a'b\n",
               'a.php' => '');
$bad->function('name', "runtime = php\nscript = a.php\nphp.1x = 1\n",
               'a.php' => '');
$bad->function('cgi', "exec = php-cgi\nphp.memory_limit = 1M\n");
$bad->function('ext', "runtime = php\nscript = a.php\nphp.extension = /x.so\n",
               'a.php' => '');
$bad->function('typo', "runtime = php\nscript = a.php\nphp.memory_limt = 1G\n",
               'a.php' => '');
# --test looks the names up: it never runs what a value names
my $pre = $bad->function('preload', "runtime = php\nscript = a.php\n"
                         . "php.opcache.preload = PRE/pre.php\n", 'a.php' => '');
FaasTest::write_file("$pre/function.conf", "runtime = php\nscript = a.php\n"
                     . "php.opcache.preload = $pre/pre.php\n"
                     . "php.opcache.preload_user = nobody\n");
FaasTest::write_file("$pre/pre.php", "<?php\ntouch('$pre/out/ran');\n");
mkdir "$pre/out";
chmod 0777, "$pre/out";
$bad->function('fine', "runtime = php\ndocument_root = www\n"
                       . "php.memory_limit = 64M\n", 'www/a.php' => '');
my $out = `$t->{runner_bin} --test --functions @{[ $bad->functions_dir ]} 2>&1`;
is($? >> 8, 1, '--test: bad keys exit 1');
like($out, qr{function "none": script "index.php" not found},
     'neither script nor document_root: index.php, which is not there');
like($out, qr{both/function.conf:1: runtime = php takes script .*not both},
     'script and document_root');
like($out, qr{exec/function.conf:1: runtime = php runs}, 'exec');
like($out, qr{app/function.conf:1: runtime = php runs}, 'app');
like($out, qr{invalid "php.x = a'b" in .*quote/function.conf:3}, 'a quote');
like($out, qr{invalid "php.1x = 1" in .*name/function.conf:3}, 'a bad name');
like($out, qr{cgi/function.conf:2: php.NAME is for runtime = php},
     'php-cgi: its php.NAME, with its line');
like($out, qr{invalid "php.extension = /x.so" in .*ext/function.conf:3},
     'an extension of its own');
like($out, qr{memory_limt: PHP has no such setting.*typo/function.conf:3: a php}s,
     'a setting PHP does not have: PHP says which, --test where');
unlike($out, qr/"?fine/, 'a good one is not');
unlike($out, qr/preload/, 'php.opcache.preload: a setting PHP has');
ok(!-e "$pre/out/ran", '... and --test never ran the script it names');

$t->stop_php_fpm;
$t->done;
done_testing;
