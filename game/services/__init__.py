"""The only bridge between the wire and the engine, by concern.

Every change follows one path: a transaction, the table's row locked, the engine applied, the
events appended to the log with the table's next ``seq``, and their broadcast sent once the
transaction commits. Callers import the module they mean:

- ``eventlog``: the event log (every append, the ``seq`` rule, the outbox and broadcast on
  commit, reading events back) and every hand-written SQL statement;
- ``seating``: sessions, joining and seats;
- ``clock``: the phase clock and the instructor's controls of a running class;
- ``moves``: what a student does at the table (propose, answer, withdraw, chat, preview);
- ``snapshots``: reading a table as a player sees it, in the reader's language;
- ``presence``: sockets registered and forgotten, players coming and going;
- ``errors``: ``ServiceError``, what every service refuses with.
"""
