#!/usr/bin/perl

# The same function through faas_pass and through stock fastcgi_pass
# (with and without fastcgi_keep_conn) gives byte-identical answers:
# status line, headers (but Date and Server) and body, for every
# response shape and record split we can make: header block alone and
# the body later, all in one write, 1-byte writes with delays, empty
# bodies, 204 and 304, Location alone and with a status, repeated
# headers, a 10 MB body, bodies written before and after the request
# body is read; as GET, POST and HEAD, over HTTP/1.0 and 1.1.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Digest::MD5 qw(md5_hex);

my $t = FaasTest->new;
my $fn = $t->testfn;

my $cgi = sub {
    my ($name, $body) = @_;
    $t->function($name, "exec = ./run.sh\nmode = cgi\n",
                 'run.sh' => "#!/bin/sh\n$body");
};

my $crlf = '\r\n';

$cgi->('split', "printf 'Content-Type: text/plain$crlf$crlf'\n"
       . "sleep 0.05\necho body after the header\n");
$cgi->('onewrite', "printf 'Content-Type: text/plain${crlf}X-A: 1$crlf$crlf"
       . "one write\\n'\n");
$cgi->('bytes', "for c in S t a t u s : ' ' 2 0 1 '\\r' '\\n' "
       . "'\\r' '\\n' b o d y; do printf \"\$c\"; sleep 0.01; done\n");
$cgi->('headsplit', "printf 'Content-Ty'\nsleep 0.05\n"
       . "printf 'pe: text/plain$crlf'\nsleep 0.05\nprintf '$crlf'\n"
       . "sleep 0.05\nprintf 'late'\n");
$cgi->('empty', "printf 'Content-Type: text/plain$crlf$crlf'\n");
$cgi->('nocontent', "printf 'Status: 204 No Content$crlf$crlf'\n");
$cgi->('notmodified', "printf 'Status: 304 Not Modified${crlf}"
       . "ETag: \"x\"$crlf$crlf'\n");
$cgi->('location', "printf 'Location: /elsewhere$crlf$crlf'\n");
$cgi->('moved', "printf 'Status: 301 Moved Permanently$crlf"
       . "Location: http://example.com/x$crlf"
       . "Content-Type: text/html$crlf${crlf}moved\\n'\n");
$cgi->('repeated', "printf 'Content-Type: text/plain${crlf}"
       . "Set-Cookie: a=1${crlf}Set-Cookie: b=2${crlf}X-Rep: one$crlf"
       . "X-Rep: two$crlf${crlf}rep\\n'\n");
$cgi->('large', "printf 'Content-Type: application/octet-stream$crlf$crlf'\n"
       . "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 10485760\n");
$cgi->('before', "printf 'Content-Type: text/plain$crlf${crlf}first\\n'\n"
       . "cat >/dev/null\necho then read\n");
$cgi->('after', "n=\$(wc -c)\nprintf 'Content-Type: text/plain$crlf"
       . "$crlf%s bytes\\n' \"\$n\"\n");
$cgi->('statusonly', "printf 'Status: 404 Not Here$crlf$crlf'\n");

$t->function('fheadfirst', "exec = $fn\n");
$t->function('fstatus', "exec = $fn\n");
$t->function('fbig', "exec = $fn\n");

$t->start_runner;

my $sock = $t->socket_path;
$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    upstream keep { server unix:$sock; keepalive 8; }
    upstream nokeep { server unix:$sock; }

    server {
        listen 127.0.0.1:$t->{port};
        client_max_body_size 0;

        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)(?<path_info>/.*)?\$ \$fname;
            faas_pass keep;
        }

        location ~ ^/(?<via>fc|fk)/(?<fname>[^/]*)(?<fpath>/.*)?\$ {
            fastcgi_pass nokeep;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$fname;
            fastcgi_param PATH_INFO \$fpath;
            if (\$via = fk) { fastcgi_pass keep; }
            fastcgi_keep_conn on;
        }
    }
EOF

sub raw {
    my ($method, $uri, $version, $body) = @_;
    my $req = "$method $uri HTTP/$version\r\nHost: localhost\r\n"
            . "Connection: close\r\n";
    $req .= "Content-Length: " . length($body) . "\r\n" if defined $body;
    $req .= "\r\n" . ($body // '');
    return $t->http($req, timeout => 30);
}

# what must be equal: the status line, headers in order, the body (a
# chunked one decoded: where chunks break depends on read timing, even
# between two runs of the same stock setup)
sub shape {
    my ($r) = @_;
    return 'no answer' unless $r;
    my ($head) = split /\r\n\r\n/, $r->{raw}, 2;
    my @h = grep { !/^(Date|Server):/i } split /\r\n/, $head;
    my $b = $r->{body};
    return join("\n", @h) . "\n--body " . length($b) . " " . md5_hex($b);
}

my $post = join '', map { chr(32 + $_ % 90) } 1 .. 100_000;

my @cases = (
    (map { [ 'GET', "/$_", undef ] }
         qw(split onewrite bytes headsplit empty nocontent notmodified
            location moved repeated large statusonly)),
    [ 'POST', '/before', $post ],
    [ 'POST', '/after', $post ],
    [ 'POST', '/after', '' ],
    [ 'GET', '/fheadfirst?op=headfirst', undef ],
    [ 'GET', '/fstatus?op=status', undef ],
    [ 'GET', '/fbig?op=big&n=3000000', undef ],
    (map { [ 'HEAD', "/$_", undef ] }
         qw(split onewrite empty nocontent notmodified moved large
            statusonly)),
    [ 'HEAD', '/fheadfirst?op=headfirst', undef ],
);

for my $c (@cases) {
    my ($method, $path, $body) = @$c;

    for my $v ('1.0', '1.1') {
        my $faas = shape(raw($method, "/fn$path", $v, $body));
        like($faas, qr/^HTTP\/1\.1 \d{3}/,
             "$method $path HTTP/$v: faas_pass answers");

        for my $via (qw(fc fk)) {
            my $stock = shape(raw($method, "/$via$path", $v, $body));
            is($faas, $stock, "$method $path HTTP/$v: faas_pass = "
               . ($via eq 'fc' ? 'fastcgi_pass'
                               : 'fastcgi_pass keep_conn'));
        }
    }
}

# the shape that once gave an empty 200: the body is there
my $r = raw('GET', '/fn/split', '1.0');
is($r->{body}, "body after the header\n", 'header record first, body '
   . 'later: the body arrives');
$r = raw('GET', '/fn/fheadfirst?op=headfirst', '1.0');
is($r->{body}, "body after the header\n", 'the same from a FastCGI app');

$t->done;

done_testing;
