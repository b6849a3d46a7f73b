"""`portal-tui ssh-serve`: a built-in SSH door for a firm with no server admin to set up
OpenSSH. Public keys only, each registered to one staff user (`portal-tui staff key add`);
each connection runs one app process as that staff user in a terminal of its own
(session.py); the host key is made at the first start and kept in the data folder
(host_key.py); logins and refusals go into the firm's audit trail (server.py). asyncssh is
imported only once the command runs: commands.py is all the CLI loads."""
