-- One database per regional service: no service reads another's tables.
CREATE DATABASE groups;
CREATE DATABASE meetings;
CREATE DATABASE feedback;
CREATE DATABASE console; -- the console: staff accounts, sessions, audit trail
