-- CreateTable (uuid and citext have no MySQL type: a string, compared case-insensitively by the collation)
CREATE TABLE `Device` (
    `id` VARCHAR(191) NOT NULL,
    `serial` VARCHAR(191) NOT NULL,
    `number` BIGINT NOT NULL,
    `name` VARCHAR(191) NOT NULL,
    `deletedAt` DATETIME(3) NULL,

    UNIQUE INDEX `Device_serial_key`(`serial`),
    UNIQUE INDEX `Device_number_key`(`number`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
