/*!40101 SET NAMES binary*/;
CREATE TABLE `events` (
  `happened_at` datetime(3) NOT NULL,
  `kind` varchar(20) NOT NULL,
  `payload` blob
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
