/*!40101 SET NAMES binary*/;
CREATE TABLE `big_spenders`(
`id` tinyint NOT NULL,
`name` tinyint NOT NULL
)ENGINE=MyISAM;
