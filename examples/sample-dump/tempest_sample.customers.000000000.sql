/*!40101 SET NAMES binary*/;
/*!40014 SET FOREIGN_KEY_CHECKS=0*/;
/*!40103 SET TIME_ZONE='+00:00' */;
INSERT INTO `customers` VALUES
(1,'Ada Lovelace','ada@example.com','2021-03-04 10:11:12',120.50),
(2,'李小龍','bruce@example.com','2021-05-06 07:08:09',0.00),
(3,'Zoë O\'Brien',NULL,'2022-01-01 00:00:00',-15.25),
(4,'Emoji 😀 Fan','emoji@example.com','2022-02-02 02:02:02',9999.99);
INSERT INTO `customers` VALUES
(5,'Back\\slash "Quote"','bs@example.com','2023-07-08 09:10:11',42.00);
