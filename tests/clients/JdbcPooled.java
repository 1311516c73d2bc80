import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Properties;

/** pgJDBC through a pooled endpoint with prepareThreshold=1: every PreparedStatement becomes a
 *  named server-side statement from its first use, reused across transactions (what breaks
 *  transaction poolers without statement tracking). THREADS connections at once.
 *  Usage: java JdbcPooled JDBC_URL USER PASSWORD THREADS ROUNDS */
public class JdbcPooled {
    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        Thread[] ts = new Thread[threads];
        final Exception[] failure = new Exception[1];
        for (int t = 0; t < threads; t++) {
            final int n = t;
            ts[t] = new Thread(() -> {
                try { work(args, n, rounds); } catch (Exception e) { synchronized (failure) { failure[0] = e; } }
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        if (failure[0] != null) { failure[0].printStackTrace(); System.exit(2); }
        System.out.printf("pgJDBC prepareThreshold=1: %d connections x %d rounds ok%n", threads, rounds);
    }

    static void work(String[] args, int n, int rounds) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("connectTimeout", "30");
        props.setProperty("prepareThreshold", "1");
        try (Connection conn = DriverManager.getConnection(args[0], props);
             PreparedStatement add = conn.prepareStatement("SELECT ?::int + ?::int");
             PreparedStatement text = conn.prepareStatement("SELECT ?::text || 'x'")) {
            for (int i = 0; i < rounds; i++) {
                add.setInt(1, n);
                add.setInt(2, i);
                try (ResultSet r = add.executeQuery()) {
                    r.next();
                    if (r.getInt(1) != n + i) throw new IllegalStateException("wrong sum");
                }
                conn.setAutoCommit(false);
                text.setString(1, Integer.toString(i));
                try (ResultSet r = text.executeQuery()) {
                    r.next();
                    if (!r.getString(1).equals(i + "x")) throw new IllegalStateException("wrong text");
                }
                conn.commit();
                conn.setAutoCommit(true);
            }
        }
    }
}
