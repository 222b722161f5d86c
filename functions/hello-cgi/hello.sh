#!/bin/sh
# A classic CGI script: headers, an empty line, the body.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'Hello from CGI, %s %s\n' "$REQUEST_METHOD" "${PATH_INFO:-/}"
