# Databricks notebook source
# MAGIC %run ./common

# COMMAND ----------

# Reads the day's orders and tells later tasks what it found, through task values.
dbutils.widgets.text("day", "2026-01-01")
day = dbutils.widgets.get("day")
orders = {"emea": 120, "amer": 340, "apac": 75}
print(f"ingesting orders of {day}")

# COMMAND ----------

# MAGIC %md
# MAGIC Task values: `rows` decides the branch, `regions` feeds the for_each.

# COMMAND ----------

dbutils.jobs.taskValues.set("rows", total(orders))
dbutils.jobs.taskValues.set("regions", sorted(orders))
dbutils.notebook.exit(f"{total(orders)} orders on {day}")
