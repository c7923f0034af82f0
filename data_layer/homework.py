"""Homework assignments and the client's logs of them."""
from data_layer.access import allowed_roles, client_scope, require_client, scope_parameters


@allowed_roles("client", "therapist")
def list_active_assignments(cur, principal, *, client_id):
    """Return the client's assignments that are in force today, with this week's logs.

    Limited to a client in the principal's scope (the client themself, or their
    current therapist); anyone else gets AccessDenied. Columns: assignment_id, title,
    category, instructions, schedule, times_per_week, due_on, starts_on, ends_on,
    done_this_week (credits logged since Monday: done 1, partly 0.5).
    """
    require_client(cur, principal, client_id, "view_assignments")
    sql = f"""
        WITH scope AS ({client_scope(principal)})
        SELECT a.id AS assignment_id, a.title, a.category, a.instructions, a.schedule,
               a.times_per_week, a.due_on, a.starts_on, a.ends_on,
               coalesce(sum(CASE h.status WHEN 'done' THEN 1.0 WHEN 'partly' THEN 0.5 ELSE 0 END), 0)
                   AS done_this_week
        FROM assignments a
        LEFT JOIN homework_logs h ON h.assignment_id = a.id
             AND h.log_date >= CAST(date_trunc('week', current_date) AS DATE)
        WHERE a.client_id = $client_id AND a.client_id IN (SELECT client_id FROM scope)
          AND a.starts_on <= current_date
          AND coalesce(a.ends_on, a.due_on, DATE '9999-12-31') >= current_date
        GROUP BY ALL
        ORDER BY a.starts_on, a.title
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
