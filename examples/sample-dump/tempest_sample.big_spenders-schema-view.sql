/*!40101 SET NAMES binary*/;
DROP TABLE IF EXISTS `big_spenders`;
DROP VIEW IF EXISTS `big_spenders`;
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `big_spenders` AS SELECT `id`, `name` FROM `customers` WHERE `balance` > 100;
