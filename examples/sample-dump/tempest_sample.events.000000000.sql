/*!40101 SET NAMES binary*/;
INSERT INTO `events` (`kind`,`happened_at`,`payload`) VALUES ('login','2023-01-01 00:00:00.125',_binary 'abc'),('login','2023-01-01 00:00:00.125',_binary 'abc'),('logout','2023-01-01 01:00:00.000',0x00FF10),('noop','2023-01-02 00:00:00.5',NULL);
