-- CreateTable (uuid and citext have no SQLite type: text, compared as written)
CREATE TABLE "Device" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serial" TEXT NOT NULL,
    "number" BIGINT NOT NULL,
    "name" TEXT NOT NULL,
    "deletedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "Device_serial_key" ON "Device"("serial");

-- CreateIndex
CREATE UNIQUE INDEX "Device_number_key" ON "Device"("number");
