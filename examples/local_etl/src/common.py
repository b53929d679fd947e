# Databricks notebook source
# Shared by the notebooks that %run it.
def total(orders: dict) -> int:
    return sum(orders.values())
