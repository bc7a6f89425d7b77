# pgpipe Sent copies: the copy Postfix sends to user+Sent@domain goes into Sent, already marked read.
# Compile once after installing: sievec /etc/dovecot/sieve/pgpipe-sent.sieve
require ["envelope", "subaddress", "fileinto", "imap4flags"];
if envelope :detail "to" "Sent" {
  fileinto :flags "\\Seen" "Sent";
  stop;
}
