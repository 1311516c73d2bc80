import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** pgJDBC through the pgs gateway: a query, then Statement.cancel() of a pg_sleep(30).
 *  Usage: java JdbcCheck JDBC_URL USER PASSWORD */
public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("connectTimeout", "10");
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                r.next();
                if (r.getInt(1) != 1) throw new IllegalStateException("SELECT 1 returned " + r.getInt(1));
            }
            Statement sleeper = conn.createStatement();
            new Thread(() -> {
                try { Thread.sleep(1000); sleeper.cancel(); } catch (Exception e) { e.printStackTrace(); }
            }).start();
            long started = System.nanoTime();
            try {
                sleeper.execute("SELECT pg_sleep(30)");
                System.err.println("query was not cancelled");
                System.exit(2);
            } catch (SQLException e) {
                if (!"57014".equals(e.getSQLState())) throw e;
            }
            double took = (System.nanoTime() - started) / 1e9;
            if (took > 5) { System.err.printf("cancel took %.2fs%n", took); System.exit(3); }
            System.out.printf("pgJDBC %s: query ok, cancel ok (%.2fs)%n", conn.getMetaData().getDriverVersion(), took);
        }
    }
}
