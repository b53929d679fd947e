# Databricks notebook source
dbutils.notebook.exit("quiet day: nothing to report")
