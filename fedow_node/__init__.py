"""fedow_node"""
