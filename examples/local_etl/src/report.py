# Databricks notebook source
rows = int(dbutils.widgets.get("rows"))
dbutils.notebook.exit(f"report: {rows} orders, big day")
